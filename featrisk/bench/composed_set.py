"""Photos carrying several damages at once, for the degradation estimator.

Real damage stacks up: a dim, noisy, compressed phone photo; rain on a soft lens. Single-family
training rows teach the estimator "which one of my families", and an image whose damage is a
mixture, or a kind it never saw, then lands on whichever single family is nearest. These rows
compose two :mod:`featrisk.degrade` families at independent random severities
(:func:`featrisk.degrade.compose`), so what it learns is closer to "how much and what kind of
damage", not a label from a closed list.

Each composed image enters the estimator once per damage (:func:`estimator_rows`), weighted
by its severity's share, so the family probabilities learn the mixture; its severity target
is the root sum of squares of the parts, capped at 5. No classifier is involved.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from featrisk import degrade
from featrisk.degradation import LabelledRows

__all__ = ["build_composed_set", "estimator_rows"]

#: Composed images written per clean photo.
PER_PHOTO = 8
#: Fewest and most damages per composed image.
DAMAGES = (2, 2)


def plan(clean: pd.DataFrame, *, per_photo: int = PER_PHOTO, seed: int = 0) -> pd.DataFrame:
    """Per composed image: source path and id, the damages as ``family:severity`` joined by
    ``+`` in the order applied, and the seed. Deterministic for a table and a seed."""
    rng = np.random.default_rng(seed)
    rows = []
    for src, source_id in zip(clean["path"], clean["source_id"], strict=True):
        for k in range(per_photo):
            n = int(rng.integers(DAMAGES[0], DAMAGES[1] + 1))
            families = rng.choice(degrade.FAMILIES, size=n, replace=False)
            severities = rng.integers(1, 6, size=n)
            rows.append({"source_path": str(src), "source_id": source_id,
                         "damages": "+".join(f"{f}:{int(s)}" for f, s in
                                             zip(families, severities, strict=True)),
                         "seed": int(rng.integers(2**31)), "variant": k})
    return pd.DataFrame(rows)


def parse(damages: str) -> list[tuple[str, int]]:
    """``"haze:2+jpeg:4"`` -> ``[("haze", 2), ("jpeg", 4)]``."""
    return [(f, int(s)) for f, s in (part.split(":") for part in damages.split("+"))]


def build_composed_set(clean: pd.DataFrame, folder: str | os.PathLike[str], *,
                       per_photo: int = PER_PHOTO, seed: int = 0) -> pd.DataFrame:
    """Write the composed images of the clean photos ``clean`` (``path``, ``source_id``) to
    ``folder`` as JPEG quality 95, as the outcome sets are; return the plan with ``path``.

    Files already present are kept (the name encodes source, variant and damages).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    table = plan(clean, per_photo=per_photo, seed=seed)
    paths = []
    for row in table.itertuples():
        key = f"{row.source_id}|{row.variant}|{row.damages}|{row.seed}"
        path = out / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.jpg"
        if not path.exists():
            bgr = cv2.imread(row.source_path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise OSError(f"{row.source_path}: could not read the clean photo")
            rgb = degrade.compose(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), parse(row.damages),
                                  seed=row.seed)
            tmp = path.with_name(path.stem + ".tmp.jpg")
            if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f"{tmp}: could not write the image")
            os.replace(tmp, path)
        paths.append(str(path))
    return table.assign(path=paths)


def estimator_rows(table: pd.DataFrame, features: pd.DataFrame) -> LabelledRows:
    """Estimator training rows of a composed set: one per (image, damage), weighted by the
    damage's share of the image's summed severity; severity target the root sum of squares
    of its damages' severities, capped at 5. Unreadable images are left out."""
    ok = features["error"].isna().to_numpy() if "error" in features else np.ones(len(table), bool)
    index, families, weights, severity, groups = [], [], [], [], []
    for i in np.flatnonzero(ok):
        parts = parse(table["damages"].iloc[i])
        total = float(sum(s for _, s in parts))
        combined = min(5.0, float(np.sqrt(sum(s * s for _, s in parts))))
        for family, s in parts:
            index.append(i)
            families.append(family)
            weights.append(s / total)
            severity.append(combined)
            groups.append(table["source_id"].iloc[i])
    rows = features.iloc[index].reset_index(drop=True)
    rows.attrs = dict(features.attrs)
    return LabelledRows(rows, np.array(families, dtype=str), np.array(severity, dtype=np.float64),
                        np.array(weights, dtype=np.float64), np.array(groups))
