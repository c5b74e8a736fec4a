"""Blur families of :mod:`featrisk.degrade`: defocus (Gaussian) and camera shake (motion)."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.degrade._common import spatial, to_uint8

BLUR_SIGMA = (1.0, 2.0, 3.0, 4.0, 6.0)
BLUR_SIGMA_FLOOR = (0.4, 0.6, 0.8, 1.0, 1.3)
MOTION_LENGTH = (6.0, 10.0, 15.0, 21.0, 30.0)
MOTION_LENGTH_FLOOR = (2.0, 3.0, 4.0, 5.0, 6.0)


def _line_kernel(length: float, angle: float) -> np.ndarray:
    """Return a normalised anti-aliased line kernel of ``length`` px at ``angle`` rad."""
    size = 2 * int(np.ceil(length / 2)) + 3
    centre = size // 2
    steps = np.linspace(-length / 2, length / 2, max(2, int(np.ceil(4 * length))))
    xs, ys = centre + steps * np.cos(angle), centre + steps * np.sin(angle)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    kernel = np.zeros((size, size), np.float32)
    for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                           (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):  # fmt: skip
        np.add.at(kernel, (y0 + dy, x0 + dx), weight)
    return kernel / kernel.sum()


def gaussian_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Defocus-like Gaussian blur; sigma from ``BLUR_SIGMA``, size-scaled."""
    sigma = spatial(image, BLUR_SIGMA, BLUR_SIGMA_FLOOR, severity)
    out = cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma,
                           borderType=cv2.BORDER_REFLECT_101)  # fmt: skip
    return to_uint8(out)


def motion_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Linear camera-shake blur at a random angle; length size-scaled."""
    angle = rng.uniform(0.0, np.pi)
    length = spatial(image, MOTION_LENGTH, MOTION_LENGTH_FLOOR, severity)
    kernel = _line_kernel(length, angle)
    out = cv2.filter2D(image.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    return to_uint8(out)
