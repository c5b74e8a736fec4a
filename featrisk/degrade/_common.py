"""Helpers of the :mod:`featrisk.degrade` families: size scaling, noise cells, value clipping.

Spatial parameters are defined at a short side of :data:`REFERENCE_SIDE` px and scaled
with the image; grain families draw their noise on cells of ``max(1, scale)`` px.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

REFERENCE_SIDE = 224  # px; short side at which spatial parameters are defined

DegradeFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def scale(image: np.ndarray) -> float:
    """Return the short side of ``image`` divided by the 224 px reference side."""
    return min(image.shape[:2]) / REFERENCE_SIDE


def spatial(image: np.ndarray, values: tuple, floors: tuple, severity: int) -> float:
    """Return a size-scaled spatial parameter in px: ``max(value * scale, floor)``."""
    return max(values[severity - 1] * scale(image), floors[severity - 1])


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Clip float values to [0, 255] and round them to a uint8 array."""
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def grain_shape(image: np.ndarray) -> tuple[int, int]:
    """Return the (rows, cols) of the noise-cell grid; cells are ``max(1, scale)`` px."""
    height, width = image.shape[:2]
    grain = max(1.0, scale(image))
    return max(1, round(height / grain)), max(1, round(width / grain))


def to_cells(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-average ``array`` onto a grid of ``shape`` cells (identity if same size)."""
    if array.shape[:2] == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def from_cells(cells: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Nearest-neighbour upsample a cell grid to the ``(H, W)`` of ``shape``."""
    if cells.shape[:2] == tuple(shape[:2]):
        return cells
    return cv2.resize(cells, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT)


def smooth_field(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Return a smooth random HxW float32 field in [0, 1] from a bicubic 4x4 grid."""
    grid = rng.random((4, 4)).astype(np.float32)
    field = cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    span = float(field.max() - field.min())
    return (field - field.min()) / span if span > 0 else np.full_like(field, 0.5)
