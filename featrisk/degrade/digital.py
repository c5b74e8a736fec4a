"""Digital families of :mod:`featrisk.degrade`: JPEG re-encoding and pixelation."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.degrade._common import spatial

JPEG_QUALITY = (80, 50, 30, 15, 7)
PIXEL_BLOCK = (5 / 3, 2.0, 2.5, 10 / 3, 4.0)
PIXEL_BLOCK_FLOOR = (1.2, 1.45, 1.9, 2.5, 3.2)


def jpeg(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Re-encode as JPEG at falling quality with OpenCV and decode back."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY[severity - 1]])
    if not ok:
        raise RuntimeError(f"OpenCV failed to JPEG-encode an image of shape {image.shape}.")
    return cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def pixelate(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Area-downscale by a size-scaled block size, then nearest-upscale back.

    Upscaling uses ``INTER_NEAREST_EXACT`` (pixel-centred), not ``INTER_NEAREST``, whose
    half-pixel shift adds misalignment error that is not monotone in the block size.
    """
    height, width = image.shape[:2]
    block = spatial(image, PIXEL_BLOCK, PIXEL_BLOCK_FLOOR, severity)
    small_size = (max(1, round(width / block)), max(1, round(height / block)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
