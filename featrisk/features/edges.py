"""Edges: Canny edge density, gradient-magnitude statistics and orientation entropy."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, quantile

#: Gradient magnitude (Sobel, grey levels) above which a pixel votes for an orientation.
ORIENT_MIN_MAG = 20.0
#: Orientation bins over [0, pi).
ORIENT_BINS = 18

COLUMNS = (
    Column("edges_canny_density", "share", "[0, 1]", "lower",
           "Share of working-image pixels on Canny edges (thresholds 50/150).",
           low="fewer edges than usual", high="more edges than usual"),
    Column("edges_grad_mean", "grey levels/px", "[0, ~1000]", "lower",
           "Mean Sobel gradient magnitude.",
           low="gentler tone changes than usual", high="sharper tone changes than usual"),
    Column("edges_grad_p90", "grey levels/px", "[0, ~1000]", "lower",
           "90th percentile of the Sobel gradient magnitude (strength of the strong edges).",
           low="strongest edges fainter than usual", high="strongest edges bolder than usual"),
    Column("edges_orientation_entropy", "bits", "[0, 4.17]", "lower",
           "Entropy of the magnitude-weighted orientation histogram (18 bins) of strong "
           "gradients; low for one dominant direction, 0 when no strong gradient exists.",
           low="edges in fewer directions than usual", high="edges in more directions than usual"),
)


def orientation_entropy(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> float:
    """Entropy in bits of the magnitude-weighted gradient orientation histogram."""
    strong = mag > ORIENT_MIN_MAG
    weights = mag[strong]  # weak pixels would add zero weight: leave them out
    if not weights.size or float(weights.sum(dtype=np.float64)) <= 0.0:
        return 0.0
    angle = cv2.phase(gx, gy)[strong]  # radians in [0, 2 pi); folded onto [0, pi) below
    bins = (angle * np.float32(ORIENT_BINS / np.pi)).astype(np.int32) % ORIENT_BINS
    hist = np.bincount(bins, weights=weights, minlength=ORIENT_BINS)
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def compute(ctx: ImageContext) -> dict[str, float]:
    """Edge measures of one image."""
    gx, gy, mag = ctx.gradients
    edges = ctx.canny
    return {
        "edges_canny_density": float(np.count_nonzero(edges) / edges.size),
        "edges_grad_mean": cv2.mean(mag)[0],
        "edges_grad_p90": quantile(mag, 0.9),
        "edges_orientation_entropy": orientation_entropy(gx, gy, mag),
    }
