"""Edges: Canny edge density, gradient-magnitude statistics and orientation entropy."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext

#: Canny hysteresis thresholds on the 0-255 working luminance.
CANNY_LOW, CANNY_HIGH = 50, 150
#: Gradient magnitude (Sobel, grey levels) above which a pixel votes for an orientation.
ORIENT_MIN_MAG = 20.0
#: Orientation bins over [0, pi).
ORIENT_BINS = 18

COLUMNS = (
    Column("edges_canny_density", "share", "[0, 1]", "lower",
           "Share of working-image pixels on Canny edges (thresholds 50/150)."),
    Column("edges_grad_mean", "grey levels/px", "[0, ~1000]", "lower",
           "Mean Sobel gradient magnitude."),
    Column("edges_grad_p90", "grey levels/px", "[0, ~1000]", "lower",
           "90th percentile of the Sobel gradient magnitude (strength of the strong edges)."),
    Column("edges_orientation_entropy", "bits", "[0, 4.17]", "lower",
           "Entropy of the magnitude-weighted orientation histogram (18 bins) of strong "
           "gradients; low for one dominant direction, 0 when no strong gradient exists."),
)


def orientation_entropy(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> float:
    """Entropy in bits of the magnitude-weighted gradient orientation histogram."""
    strong = mag > ORIENT_MIN_MAG
    if not strong.any():
        return 0.0
    angle = np.arctan2(gy[strong], gx[strong]) % np.pi
    hist = np.bincount(
        np.minimum((angle / np.pi * ORIENT_BINS).astype(np.int64), ORIENT_BINS - 1),
        weights=mag[strong], minlength=ORIENT_BINS,
    )
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def compute(ctx: ImageContext) -> dict[str, float]:
    """Edge measures of one image."""
    gx, gy, mag = ctx.gradients
    edges = cv2.Canny(ctx.grey, CANNY_LOW, CANNY_HIGH, L2gradient=True)
    return {
        "edges_canny_density": float(np.count_nonzero(edges) / edges.size),
        "edges_grad_mean": float(mag.mean()),
        "edges_grad_p90": float(np.percentile(mag, 90)),
        "edges_orientation_entropy": orientation_entropy(gx, gy, mag),
    }
