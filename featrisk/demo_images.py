"""The demo's images: crops of photos inside scikit-image's wheel, clean and degraded.

Pure and deterministic, with no torch and no network: the photos come from
``skimage.data`` functions whose files ship inside the wheel (no pooch download). Ten
photos (eight colour, two grey converted to three equal channels) each give five square
crops (:data:`CROPS`), resized to 224 x 224 with ``cv2.INTER_AREA`` (crops are never
smaller than 224 px, so it only ever shrinks): 50 pristine crops. Each crop comes clean and
degraded by every family of :data:`featrisk.degrade.CORE_FAMILIES` (the fourteen whose
outcomes `data/demo_outcomes.csv` records) at two distinct severities
drawn from 1-5, so the set holds 50 x (1 + 14 x 2) = 1,450 images.

How the images are used
-----------------------
Consumers save each image as JPEG quality 95 with OpenCV (``cv2.imwrite`` with
``cv2.IMWRITE_JPEG_QUALITY, 95``, as :func:`featrisk.demo.demo_dataset` does) and extract
features from the files. ``data/make_demo_outcomes.py`` classifies exactly those pixels:
it round-trips every array through ``cv2.imencode``/``cv2.imdecode`` at quality 95 (the
same encoder, so the same bytes) before classifying, and records the outcomes in
``data/demo_outcomes.csv`` by ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
from skimage import data as skdata

from featrisk import degrade

__all__ = [
    "CROPS",
    "DEMO_SIDE",
    "PHOTOS",
    "SEVERITIES_PER_FAMILY",
    "demo_images",
    "iter_demo_images",
    "square_crop",
]

#: Side of every demo image, in pixels.
DEMO_SIDE = 224
#: Degraded variants per (crop, family), at distinct severities.
SEVERITIES_PER_FAMILY = 2
#: Photos and their loaders; every file ships inside scikit-image's wheel.
PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": skdata.astronaut,
    "chelsea": skdata.chelsea,
    "coffee": skdata.coffee,
    "rocket": skdata.rocket,
    "motorcycle": lambda: skdata.stereo_motorcycle()[0],
    "retina": skdata.retina,
    "hubble": skdata.hubble_deep_field,
    "ihc": skdata.immunohistochemistry,
    "camera": skdata.camera,
    "coins": skdata.coins,
}
#: Square crops as (centre x, centre y, side), each a fraction of the photo's width,
#: height and short side; the side is raised to at least 224 px and the square is shifted
#: to lie inside the photo.
CROPS: tuple[tuple[float, float, float], ...] = (
    (0.50, 0.50, 1.00),
    (0.35, 0.40, 0.70),
    (0.65, 0.60, 0.70),
    (0.50, 0.45, 0.55),
    (0.40, 0.65, 0.80),
)


def demo_images(*, seed: int = 0) -> list[dict]:
    """Build the demo set: every pristine crop clean and degraded, in a fixed order.

    Parameters
    ----------
    seed : int, default 0
        Seeds the choice of severities and the degradations' random draws.

    Returns
    -------
    list of dict
        One dict per image with ``name`` (unique, ``"<photo>_c<k>__none"`` for a clean
        crop, ``"<photo>_c<k>__<family>_s<severity>"`` otherwise; the part before ``"__"``
        names the pristine crop), ``source`` (the photo), ``degradation`` (family or
        ``"none"``), ``severity`` (0 clean, 1-5) and ``image`` (224 x 224 x 3 uint8 RGB).
    """
    return list(iter_demo_images(seed=seed))


def iter_demo_images(*, seed: int = 0) -> Iterator[dict]:
    """Yield the items of :func:`demo_images` one by one (same order, less memory)."""
    crop_index = 0
    for photo, load in PHOTOS.items():
        rgb = _as_rgb(load())
        for k, spec in enumerate(CROPS):
            crop = square_crop(rgb, *spec)
            crop_name = f"{photo}_c{k}"
            yield _item(f"{crop_name}__none", photo, "none", 0, crop)
            for f, family in enumerate(degrade.CORE_FAMILIES):
                rng = np.random.default_rng([seed, crop_index, f])
                severities = np.sort(rng.choice(5, size=SEVERITIES_PER_FAMILY, replace=False) + 1)
                degrade_seed = int(rng.integers(0, 2**31 - 1))
                for sev in severities.tolist():
                    image = degrade.apply(crop, family, sev, seed=degrade_seed)
                    yield _item(f"{crop_name}__{family}_s{sev}", photo, family, sev, image)
            crop_index += 1


def square_crop(rgb: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    """Cut one square crop (fractions as in :data:`CROPS`) and resize it to 224 x 224.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(height, width, 3)`` uint8 RGB photo, short side at least 224 px.
    cx, cy : float
        Centre as fractions of the width and height, in [0, 1].
    side : float
        Side as a fraction of the short side, in (0, 1]; raised to at least 224 px.

    Returns
    -------
    numpy.ndarray
        ``(224, 224, 3)`` uint8, resized with ``cv2.INTER_AREA``.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < DEMO_SIDE:
        raise ValueError(f"rgb: short side must be at least {DEMO_SIDE} px; shape {rgb.shape}")
    s = min(min(h, w), max(DEMO_SIDE, round(side * min(h, w))))
    left = int(np.clip(round(cx * w - s / 2), 0, w - s))
    top = int(np.clip(round(cy * h - s / 2), 0, h - s))
    square = rgb[top : top + s, left : left + s]
    return cv2.resize(square, (DEMO_SIDE, DEMO_SIDE), interpolation=cv2.INTER_AREA)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Grey to three equal channels; RGB passes through (uint8 in both cases)."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _item(name: str, source: str, degradation: str, severity: int, image: np.ndarray) -> dict:
    """One demo record."""
    return {"name": name, "source": source, "degradation": degradation,
            "severity": int(severity), "image": image}  # fmt: skip
