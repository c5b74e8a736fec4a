"""Exposure: luminance level, percentiles, clipping, histogram entropy and dynamic range.

All on the working image's luminance (BT.601), scaled to [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, percentiles_from_hist

#: Grey levels (0-255) at or below which a pixel counts as clipped dark.
DARK_LEVEL = 5
#: Grey levels at or above which a pixel counts as clipped bright.
BRIGHT_LEVEL = 250

_PCTS = (1, 5, 50, 95, 99)

COLUMNS = (
    Column("exposure_mean", "luminance", "[0, 1]", "both", "Mean luminance; low = dark, high = bright.",
           low="darker than usual", high="brighter than usual"),
    Column("exposure_p01", "luminance", "[0, 1]", "higher", "1st percentile (black point).",
           low="deeper blacks than usual", high="blacks greyer than usual"),
    Column("exposure_p05", "luminance", "[0, 1]", "higher", "5th percentile.",
           low="shadows darker than usual", high="shadows lighter than usual"),
    Column("exposure_p50", "luminance", "[0, 1]", "both", "Median luminance.",
           low="midtones darker than usual", high="midtones brighter than usual"),
    Column("exposure_p95", "luminance", "[0, 1]", "lower", "95th percentile.",
           low="highlights dimmer than usual", high="highlights brighter than usual"),
    Column("exposure_p99", "luminance", "[0, 1]", "lower", "99th percentile (white point).",
           low="whites duller than usual", high="whites brighter than usual"),
    Column("exposure_dark_frac", "share", "[0, 1]", "higher",
           "Share of pixels at grey level <= 5 (crushed shadows).",
           low="less crushed black than usual", high="more crushed black than usual"),
    Column("exposure_bright_frac", "share", "[0, 1]", "higher",
           "Share of pixels at grey level >= 250 (blown highlights).",
           low="less blown-out white than usual", high="more blown-out white than usual"),
    Column("exposure_clipped_channel_frac", "share", "[0, 1]", "higher",
           "Share of pixels with any RGB channel at 255 (colour clipping).",
           low="less maxed-out colour than usual", high="more maxed-out colour than usual"),
    Column("exposure_entropy", "bits", "[0, 8]", "lower",
           "Shannon entropy of the 256-bin luminance histogram.",
           low="fewer distinct tones than usual", high="more distinct tones than usual"),
    Column("exposure_dynamic_range", "luminance", "[0, 1]", "lower",
           "p99 - p01 of luminance: the span of tones actually used.",
           low="narrower black-to-white span than usual", high="wider black-to-white span than usual"),
    Column("exposure_corner_ratio", "ratio", "[0, ~5]", "lower",
           "Mean luminance of the four corner boxes (each 1/5 of width and height) over that "
           "of the central box (+1 grey level each): vignetting lowers it.",
           low="corners darker than usual", high="corners brighter than usual"),
)


def clipped_share(rgb: np.ndarray) -> float:
    """Share (0-1) of pixels with any channel at 255."""
    r, g, b = cv2.split(rgb)
    return cv2.countNonZero(cv2.compare(cv2.max(cv2.max(r, g), b), 255, cv2.CMP_EQ)) / r.size


def corner_ratio(grey: np.ndarray) -> float:
    """Mean luminance of the four corner fifths over the central fifth-box (each +1 level)."""
    h, w = grey.shape
    bh, bw = max(1, h // 5), max(1, w // 5)
    corners = [grey[:bh, :bw], grey[:bh, w - bw :], grey[h - bh :, :bw], grey[h - bh :, w - bw :]]
    center = grey[(h - bh) // 2 : (h - bh) // 2 + bh, (w - bw) // 2 : (w - bw) // 2 + bw]
    corner_mean = sum(cv2.mean(c)[0] for c in corners) / 4.0
    return (corner_mean + 1.0) / (cv2.mean(center)[0] + 1.0)


def compute(ctx: ImageContext) -> dict[str, float]:
    """Exposure measures of one image."""
    hist = ctx.grey_hist
    p01, p05, p50, p95, p99 = percentiles_from_hist(hist, _PCTS) / 255.0
    nz = hist[hist > 0]
    return {
        "exposure_mean": cv2.mean(ctx.grey)[0] / 255.0,
        "exposure_p01": p01,
        "exposure_p05": p05,
        "exposure_p50": p50,
        "exposure_p95": p95,
        "exposure_p99": p99,
        "exposure_dark_frac": float(hist[: DARK_LEVEL + 1].sum()),
        "exposure_bright_frac": float(hist[BRIGHT_LEVEL:].sum()),
        "exposure_clipped_channel_frac": clipped_share(ctx.rgb),
        "exposure_entropy": float(-(nz * np.log2(nz)).sum()),
        "exposure_dynamic_range": float(p99 - p01),
        "exposure_corner_ratio": corner_ratio(ctx.grey),
    }
