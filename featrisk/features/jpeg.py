"""JPEG artefacts: 8x8 blockiness, quality from the quantisation tables, chroma subsampling.

Blockiness compares luminance steps across the 8x8 block boundaries of the native image
with steps inside blocks (boundary / interior mean absolute difference): about 1 for images
without blocking, rising as coarse quantisation makes block edges visible. It reads at most
the central 1024x1024 px (aligned to the 8x8 grid) so that large photos stay cheap.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, central_crop
from featrisk.io import IN_MEMORY

COLUMNS = (
    Column("jpeg_blockiness", "ratio", "[0, ~5]", "higher",
           "Mean |step| across 8x8 block boundaries / mean |step| inside blocks, native "
           "resolution; ~1 without blocking (0 for images under 16 px).",
           low="fewer visible compression blocks than usual",
           high="more visible compression blocks than usual"),
    Column("jpeg_quality", "IJG quality", "[1, 100]", "lower",
           "Quality implied by the file's luminance quantisation table; 100 for lossless files.",
           low="stronger compression than usual", high="lighter compression than usual"),
    Column("jpeg_chroma_share", "ratio", "0.25, 0.5, 1", "lower",
           "Chroma resolution relative to luma (0.25 = 4:2:0, 0.5 = 4:2:2, 1 = 4:4:4 or lossless).",
           low="colour stored coarser than usual", high="colour stored finer than usual"),
)


def _axis_ratio(grey: np.ndarray, axis: int) -> tuple[float, float]:
    """Mean |difference| across block boundaries and inside blocks along one axis.

    Integer differences summed exactly in int64: no per-pixel float arrays, no copies.
    """
    d = cv2.absdiff(grey[:, 1:], grey[:, :-1]) if axis == 1 else cv2.absdiff(grey[1:], grey[:-1])
    n = d.shape[axis]
    if n < 8:
        return 0.0, 0.0
    sums = cv2.reduce(d, 1 - axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    boundary, total = int(sums[7::8].sum()), int(sums.sum())
    n_boundary = len(range(7, n, 8)) * d.shape[1 - axis]
    n_inside = d.size - n_boundary
    return boundary / n_boundary, (total - boundary) / n_inside


def blockiness(grey: np.ndarray) -> float:
    """8x8 blockiness ratio of a luminance image (>= 0; ~1 without blocking)."""
    g = central_crop(grey)
    if min(g.shape) < 16:
        return 0.0
    bh, ih = _axis_ratio(g, 1)
    bv, iv = _axis_ratio(g, 0)
    return (bh + bv) / (ih + iv) if ih + iv > 1e-6 else 1.0


def compute(ctx: ImageContext) -> dict[str, float]:
    """JPEG artefact measures of one image."""
    in_memory = ctx.facts.format == IN_MEMORY  # no file: quality and chroma are unknown
    return {
        "jpeg_blockiness": blockiness(ctx.native_grey),
        "jpeg_quality": math.nan if in_memory else float(ctx.facts.jpeg_quality),
        "jpeg_chroma_share": math.nan if in_memory else float(ctx.facts.chroma_share),
    }
