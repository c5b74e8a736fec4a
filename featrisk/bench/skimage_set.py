"""Degraded crops of the scikit-image photos the demo does not use, for the estimator.

The degradation estimator learns what went wrong with an image from photos whose
degradation is known for free. Besides the benchmark outcome sets it reads the photos that
ship inside scikit-image's wheel, except the ten the demo uses (:data:`featrisk.demo_images.PHOTOS`),
so the demo's held-out figures stay held out: five grey photos of textures and objects
(brick, grass, gravel, the moon, a clock). Each gives the demo's five square crops
(224 x 224), clean and degraded by every family at two distinct seeded severities:
5 x 5 x (1 + 14 x 2) = 725 images, written as JPEG quality 95.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from skimage import data as skdata

from featrisk import degrade
from featrisk.demo_images import CROPS, SEVERITIES_PER_FAMILY, square_crop

__all__ = ["ESTIMATOR_PHOTOS", "build_skimage_set"]

#: scikit-image photos (in the wheel, no download) used to train the estimator only.
ESTIMATOR_PHOTOS = ("brick", "grass", "gravel", "moon", "clock")


def build_skimage_set(folder: str | os.PathLike[str], *, seed: int = 1,
                      photos: tuple[str, ...] = ESTIMATOR_PHOTOS) -> pd.DataFrame:
    """Write the degraded crops to ``folder``; return path, source_id, degradation, severity.

    Deterministic for a seed and a tuple of photos; files already present with the same name
    are rewritten.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for name in photos:
        image = getattr(skdata, name)()
        image = np.dstack([image] * 3) if image.ndim == 2 else image[:, :, :3]
        for ci, (cx, cy, side) in enumerate(CROPS):
            crop = square_crop(image, cx, cy, side)
            variants = [("none", 0, crop)]
            for family in degrade.FAMILIES:
                for sev in rng.choice(np.arange(1, 6), SEVERITIES_PER_FAMILY, replace=False):
                    seed_i = int(rng.integers(2**31))
                    variants.append((family, int(sev), degrade.apply(crop, family, int(sev),
                                                                      seed=seed_i)))
            for family, sev, pixels in variants:
                path = out / f"{name}_c{ci}__{family}_s{sev}.jpg"
                ok = cv2.imwrite(str(path), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR),
                                 [cv2.IMWRITE_JPEG_QUALITY, 95])
                if not ok:
                    raise OSError(f"{path}: could not write the image")
                rows.append({"path": str(path), "source_id": f"{name}_c{ci}",
                             "degradation": family, "severity": sev})
    return pd.DataFrame(rows)
