"""Tone families of :mod:`featrisk.degrade`: exposure, contrast, colour cast and vignetting."""

from __future__ import annotations

import numpy as np

from featrisk.degrade._common import to_uint8

UNDER_GAMMA = (1.2, 1.4, 1.7, 2.0, 2.4)
UNDER_GAIN = (0.8, 0.65, 0.5, 0.35, 0.25)
OVER_STOPS = (0.5, 1.0, 1.5, 2.0, 3.0)
SRGB_GAMMA = 2.2
CONTRAST_KEEP = (0.5, 0.35, 0.2, 0.1, 0.05)
CAST_STRENGTH = (0.1, 0.2, 0.35, 0.5, 0.7)
VIGNETTE_STRENGTH = (0.2, 0.35, 0.5, 0.65, 0.8)


def underexposure(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Darken towards black: ``gain * x ** gamma`` on values in [0, 1]."""
    x = image.astype(np.float32) / 255.0
    return to_uint8(255.0 * UNDER_GAIN[severity - 1] * x ** UNDER_GAMMA[severity - 1])


def overexposure(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Brighten by exposure stops in linear light; highlights clip at white."""
    linear = (image.astype(np.float32) / 255.0) ** SRGB_GAMMA * 2.0 ** OVER_STOPS[severity - 1]
    return to_uint8(255.0 * np.minimum(linear, 1.0) ** (1.0 / SRGB_GAMMA))


def contrast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Blend towards the image mean, keeping a falling fraction of each deviation."""
    x = image.astype(np.float32)
    mean = float(x.mean())
    return to_uint8(mean + (x - mean) * CONTRAST_KEEP[severity - 1])


def color_cast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Multiply channels by a random zero-sum log-gain tint of growing strength."""
    direction = rng.standard_normal(3)
    direction -= direction.mean()
    direction /= max(float(np.linalg.norm(direction)), 1e-12)
    gains = np.exp(CAST_STRENGTH[severity - 1] * direction).astype(np.float32)
    return to_uint8(image.astype(np.float32) * gains)


def vignette(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Radial darkening ``1 - k r**2``, with r = 0 at the centre and 1 at the corners."""
    height, width = image.shape[:2]
    ys = (np.arange(height, dtype=np.float32) - (height - 1) / 2) / max(height / 2, 1)
    xs = (np.arange(width, dtype=np.float32) - (width - 1) / 2) / max(width / 2, 1)
    r2 = (ys[:, None] ** 2 + xs[None, :] ** 2) / 2.0
    gain = 1.0 - VIGNETTE_STRENGTH[severity - 1] * r2
    return to_uint8(image.astype(np.float32) * gain[..., None])
