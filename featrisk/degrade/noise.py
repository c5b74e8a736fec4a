"""Grain families of :mod:`featrisk.degrade`: Gaussian, shot (Poisson) and salt-and-pepper noise."""

from __future__ import annotations

import numpy as np

from featrisk.degrade._common import from_cells, grain_shape, to_cells, to_uint8

NOISE_SIGMA = (20.0, 31.0, 46.0, 66.0, 97.0)
SHOT_PHOTONS = (60.0, 25.0, 12.0, 5.0, 3.0)
SALT_PEPPER_FRACTION = (0.03, 0.06, 0.10, 0.17, 0.27)


def gaussian_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, sigma in 0-255 units, drawn on size-scaled cells."""
    cells = rng.standard_normal((*grain_shape(image), 3)).astype(np.float32)
    noise = from_cells(cells * NOISE_SIGMA[severity - 1], image.shape)
    return to_uint8(image.astype(np.float32) + noise)


def shot_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson photon noise; fewer photons (noisier) as severity rises."""
    photons = SHOT_PHOTONS[severity - 1]
    clean = to_cells(image.astype(np.float32) / 255.0, grain_shape(image))
    noisy = rng.poisson(clean.astype(np.float64) * photons) / photons
    noise = from_cells(((noisy - clean) * 255.0).astype(np.float32), image.shape)
    return to_uint8(image.astype(np.float32) + noise)


def salt_pepper(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Set a growing fraction of pixel cells to pure black or white (all channels)."""
    hit, salt = (from_cells(rng.random(grain_shape(image)), image.shape) for _ in range(2))
    out = image.copy()
    corrupt = hit < SALT_PEPPER_FRACTION[severity - 1]
    out[corrupt & (salt < 0.5)] = 0
    out[corrupt & (salt >= 0.5)] = 255
    return out
