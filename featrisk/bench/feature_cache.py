"""The outcome sets' feature tables, extracted once per set and profile and cached beside it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from featrisk.degradation import LabelledRows
from featrisk.extract import extract
from featrisk.profiles import get_profile
from featrisk.schema import SCHEMA_VERSION


def features_cached(outcomes: pd.DataFrame, cache: Path, *, n_jobs: int,
                    profile: str = "default") -> tuple[pd.DataFrame, dict]:
    """Extract (or reuse) the outcome set's features; time a fresh extraction when made."""
    suffix = get_profile(profile).suffix
    path = cache / f"features_schema{SCHEMA_VERSION}{suffix}.parquet"
    timing = cache / f"features_timing{suffix}.json"
    paths = outcomes["path"].astype(str).tolist()
    if path.exists():
        table = pd.read_parquet(path)
        if table["path"].tolist() == paths:
            table.attrs["featrisk_schema"] = SCHEMA_VERSION
            table.attrs["featrisk_profile"] = profile
            info = json.loads(timing.read_text())
            return table, info
    start = time.perf_counter()
    table = extract(paths, n_jobs=n_jobs, progress=True, profile=profile)
    seconds = time.perf_counter() - start
    table.to_parquet(path, index=False)
    info = {"images": len(paths), "seconds": round(seconds, 1), "n_jobs": n_jobs,
            "images_per_second": round(len(paths) / seconds, 1), "profile": profile}
    timing.write_text(json.dumps(info))
    return table, info


def composed_rows(root: Path, *, n_jobs: int, profile: str = "default") -> LabelledRows:
    """Estimator rows of the composed-damage set built from the ImageNet set's clean photos
    (:mod:`featrisk.bench.composed_set`), written and extracted once under ``root/composed``."""
    from featrisk.bench.composed_set import build_composed_set, estimator_rows

    outcomes = pd.read_csv(root / "imagenet" / "outcomes.csv")
    clean = outcomes.loc[outcomes["degradation"] == "none", ["path", "source_id"]]
    cache = root / "composed"
    table = build_composed_set(clean, cache / "images")
    features, _ = features_cached(table, cache, n_jobs=n_jobs, profile=profile)
    return estimator_rows(table, features)
