"""What each feature family and the working size buy: AUROC lost per millisecond saved.

``featrisk bench ablation`` answers two questions on an outcome set, with the same grouped
folds as ``bench run``:

- **Families.** For each feature family: the time of its own work and the AUROC of the
  direct risk model without its columns. ``auroc_lost_per_ms`` is the AUROC lost by dropping
  the family divided by the milliseconds of its own work.
- **Working size.** The whole extraction rerun with the working image's short side set to
  each size in ``sizes`` (long side twice that): extraction time per image and AUROC. The
  shipped schema uses :data:`featrisk.features._base.WORK_SHORT_SIDE`; the other sizes are
  measured, never shipped.

Family times are each family's own work once the shared views (resize to the working
size, grey, gradients, colour conversions, ...) exist; the views are timed separately.

The direct model (image features only, no degradation estimator) is used throughout: it is
the quantity the features control, and one fit takes seconds instead of minutes. Timings
run in this process, one thread (OpenCV and BLAS pinned), on the first ``timing_images``
images of the outcome set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from featrisk import features as F
from featrisk import metrics
from featrisk.features import _base
from featrisk.io import read_image
from featrisk.model import RiskModel, fold_ids
from featrisk.profiles import profile_of
from featrisk.schema import FEATURE_COLUMNS

__all__ = ["family_ablation", "size_study", "family_costs_ms"]


def _family_name(module: Any) -> str:
    return module.__name__.rsplit(".", 1)[-1]


#: The shared views of :class:`~featrisk.features.ImageContext`, timed before the families.
VIEWS = ("rgb", "native_grey", "grey", "grey_f", "grey_hist", "gradients", "laplacian",
         "local_std", "canny", "hsv", "lab", "is_grey")


def family_costs_ms(paths: Sequence[str], *, repeats: int = 3) -> dict[str, float]:
    """Milliseconds per image of each shared view and of each family's own work.

    Each image is decoded once, outside the timed region. In every pass each image gets a
    fresh context; its shared views (:data:`VIEWS`) are timed one by one, then each family
    (which now finds its views ready). Per key the fastest of ``repeats`` passes is kept, so
    a busy moment in one pass does not count. Dropping a family saves at least its own time
    (and also the views no other family reads); keys are ``view_<name>``, the family names,
    and ``all`` (the sum).
    """
    from featrisk.extract import single_threaded

    decoded = [read_image(p) for p in paths]
    names = [_family_name(f) for f in F.FAMILIES]
    best: dict[str, float] = {}
    clock = time.perf_counter
    with single_threaded():
        for _ in range(repeats):
            spent = dict.fromkeys([f"view_{v}" for v in VIEWS] + names, 0.0)
            for d in decoded:
                ctx = F.ImageContext(d.rgb, d.facts)
                for view in VIEWS:
                    t = clock()
                    getattr(ctx, view)
                    spent[f"view_{view}"] += clock() - t
                for name, fam in zip(names, F.FAMILIES, strict=True):
                    t = clock()
                    fam.compute(ctx)
                    spent[name] += clock() - t
            for key, value in spent.items():
                best[key] = min(best.get(key, np.inf), value)
    out = {k: v * 1000.0 / len(decoded) for k, v in best.items()}
    out["all"] = sum(out.values())
    return out


def _direct_auroc(features: pd.DataFrame, error: np.ndarray, fold: np.ndarray,
                  groups: np.ndarray, columns: list[str]) -> float:
    scores = np.full(len(error), np.nan)
    for k in np.unique(fold):
        test, train = fold == k, fold != k
        model = RiskModel(degradation=None, features=columns, profile=profile_of(features)).fit(
            features[train], error[train] == 0, groups=groups[train])
        scores[test] = model.predict_risk(features[test])
    return float(metrics.auroc(error, scores))


def family_ablation(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 5,
                    seed: int = 0, timing_images: int = 300,
                    timing_paths: Sequence[str] | None = None,
                    costs: dict[str, float] | None = None,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """AUROC of the direct model without each family, and the time each family costs.

    Times are ``costs`` when given (the output of :func:`family_costs_ms`, to time once for
    several outcome sets), else measured on ``timing_paths`` (e.g. full-size photos), else on
    the first ``timing_images`` images of the outcome set.
    """
    ok = features["error"].isna().to_numpy()
    features, outcomes = features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    groups = outcomes["source_id"].to_numpy()
    fold = fold_ids(len(error), cv=folds, groups=groups, seed=seed)
    full = _direct_auroc(features, error, fold, groups, list(FEATURE_COLUMNS))
    log(f"  all families: AUROC {full:.4f}")
    without = {}
    for fam in F.FAMILIES:
        name = _family_name(fam)
        own = {c.name for c in fam.COLUMNS}
        without[name] = _direct_auroc(features, error, fold, groups,
                                      [c for c in FEATURE_COLUMNS if c not in own])
        log(f"  without {name}: AUROC {without[name]:.4f} (lost {full - without[name]:+.4f})")
    # timing last, so that a quiet machine is needed only for the last minute
    n_timed = len(timing_paths) if timing_paths else min(timing_images, len(outcomes))
    if costs is None:
        timed = list(timing_paths or outcomes["path"].astype(str).tolist()[:timing_images])
        costs = family_costs_ms(timed)
    rows = []
    for fam in F.FAMILIES:
        name = _family_name(fam)
        saved, lost = costs[name], full - without[name]
        rows.append({"family": name, "columns": len(fam.COLUMNS), "own_ms": round(saved, 3),
                     "auroc_without": round(without[name], 4), "auroc_lost": round(lost, 4),
                     "auroc_lost_per_ms": round(lost / saved, 4) if saved > 0.01 else None})
    views = {k[5:]: round(v, 3) for k, v in costs.items() if k.startswith("view_")}
    log(f"  timing: {costs['all']:.2f} ms/image on {n_timed} images")
    return {"auroc_all": round(full, 4), "ms_all": round(costs["all"], 3),
            "timing_images": n_timed, "families": rows, "views_ms": views}


@contextmanager
def working_size(short_side: int):
    """Temporarily set the working image's short side (long side twice it); not thread-safe."""
    old = _base.WORK_SHORT_SIDE, _base.WORK_LONG_SIDE
    _base.WORK_SHORT_SIDE, _base.WORK_LONG_SIDE = short_side, 2 * short_side
    try:
        yield
    finally:
        _base.WORK_SHORT_SIDE, _base.WORK_LONG_SIDE = old


def size_study(outcomes: pd.DataFrame, sizes: Sequence[int], *, folds: int = 5, seed: int = 0,
               timing_images: int = 300, timing_paths: Sequence[str] | None = None,
               log: Callable[[str], None] = print) -> list[dict]:
    """Extraction time and direct-model AUROC at each working size (one process, n_jobs=1)."""
    from featrisk.extract import extract

    paths = outcomes["path"].astype(str).tolist()
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    groups = outcomes["source_id"].to_numpy()
    fold = fold_ids(len(error), cv=folds, groups=groups, seed=seed)
    rows = []
    for size in sizes:
        with working_size(int(size)):
            features = extract(paths, n_jobs=1)
        ok = features["error"].isna().to_numpy()
        auroc = _direct_auroc(features[ok].reset_index(drop=True), error[ok], fold[ok],
                              groups[ok], list(FEATURE_COLUMNS))
        rows.append({"short_side": int(size), "auroc_direct": round(auroc, 4),
                     "shipped": int(size) == _base.WORK_SHORT_SIDE})
        log(f"  working short side {size}: AUROC {auroc:.4f}")
    timed = list(timing_paths or paths[:timing_images])
    for row in rows:
        with working_size(row["short_side"]):
            row["features_ms"] = round(family_costs_ms(timed)["all"], 3)
        log(f"  working short side {row['short_side']}: features {row['features_ms']:.2f} ms/image")
    return rows
