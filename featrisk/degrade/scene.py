"""Scene families of :mod:`featrisk.degrade`: haze in the air and patches in front of the object."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.degrade._common import smooth_field, to_uint8

HAZE_BETA = (0.25, 0.5, 0.8, 1.15, 1.6)
OCCLUSION_AREA = (0.05, 0.10, 0.18, 0.28, 0.40)
OCCLUSION_MAX_PATCHES = 3
OCCLUSION_PLACEMENT_TRIES = 30


def haze(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Atmospheric haze ``J t + A (1 - t)`` with a smooth random transmission map."""
    depth = 0.5 + smooth_field(image.shape, rng)
    airlight = 255.0 * (rng.uniform(0.80, 0.95) + rng.uniform(-0.03, 0.03, 3))
    transmission = np.exp(-HAZE_BETA[severity - 1] * depth)[..., None]
    out = image.astype(np.float32) * transmission + airlight.astype(np.float32) * (1 - transmission)
    return to_uint8(out)


def _occlusion_fill(image: np.ndarray, kind: int, rng: np.random.Generator) -> np.ndarray:
    """Return a full-size fill: 0 flat colour, 1 random texture, 2 another image."""
    height, width = image.shape[:2]
    if kind == 0:
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.float32), image.shape)
    if kind == 1:
        coarse = rng.random((4, 4, 3)).astype(np.float32) * 255.0
        smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
        return smooth + rng.normal(0.0, 25.0, image.shape).astype(np.float32)
    flipped = image[::-1] if rng.random() < 0.5 else image[::-1, ::-1]
    shift = (int(rng.integers(0, height)), int(rng.integers(0, width)))
    return np.roll(flipped, shift, axis=(0, 1)).astype(np.float32)


def _occlusion_boxes(image: np.ndarray, rng: np.random.Generator) -> list[tuple]:
    """Draw 1-3 patches as (centre y, centre x, aspect h/w, share of the occluded area).

    Centres are placed so the severity-5 patches fit inside and, when possible, apart.
    """
    height, width = image.shape[:2]
    shares = rng.uniform(0.5, 1.5, int(rng.integers(1, OCCLUSION_MAX_PATCHES + 1)))
    boxes: list[tuple] = []
    placed: list[tuple] = []  # (cy, cx, h, w) at severity 5
    for share in shares / shares.sum():
        aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        h5, w5 = _patch_size(height, width, OCCLUSION_AREA[-1] * share, aspect)
        for _ in range(OCCLUSION_PLACEMENT_TRIES):
            cy = rng.uniform(h5 / 2, height - h5 / 2)
            cx = rng.uniform(w5 / 2, width - w5 / 2)
            if all(abs(cy - py) * 2 >= h5 + ph or abs(cx - px) * 2 >= w5 + pw
                   for py, px, ph, pw in placed):  # fmt: skip
                break
        placed.append((cy, cx, h5, w5))
        boxes.append((cy, cx, aspect, float(share)))
    return boxes


def _patch_size(height: int, width: int, share: float, aspect: float) -> tuple[float, float]:
    """Return (h, w) in px of a patch covering ``share`` of the image at ``aspect`` h/w."""
    area = share * height * width
    h = min(float(height), np.sqrt(area * aspect))
    return h, min(float(width), area / h)


def occlusion(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Cover a growing share of the area with 1-3 patches of random fill.

    All draws are made for the severity-5 layout; lower severities shrink each patch
    about its centre, so the covered pixels of severity k are a subset of those of k+1.
    """
    height, width = image.shape[:2]
    out = image.astype(np.float32)
    for cy, cx, aspect, share in _occlusion_boxes(image, rng):
        fill = _occlusion_fill(image, int(rng.integers(0, 3)), rng)
        h, w = _patch_size(height, width, OCCLUSION_AREA[severity - 1] * share, aspect)
        top, bottom = round(cy - h / 2), max(round(cy + h / 2), round(cy - h / 2) + 1)
        left, right = round(cx - w / 2), max(round(cx + w / 2), round(cx - w / 2) + 1)
        top, left = max(0, min(top, height - 1)), max(0, min(left, width - 1))
        out[top:bottom, left:right] = fill[top:bottom, left:right]
    return to_uint8(out)
