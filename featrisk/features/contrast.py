"""Contrast: global RMS and Michelson contrast, percentile range, and local contrast spread."""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, percentiles_from_hist, quantile

COLUMNS = (
    Column("contrast_rms", "luminance", "[0, 0.5]", "lower", "Standard deviation of luminance.",
           low="lower contrast than usual", high="higher contrast than usual"),
    Column("contrast_michelson", "ratio", "[0, 1]", "lower",
           "(p99 - p01) / (p99 + p01) of luminance, a robust Michelson contrast.",
           low="weaker black-white contrast than usual", high="stronger black-white contrast than usual"),
    Column("contrast_range_p5_p95", "luminance", "[0, 1]", "lower", "p95 - p05 of luminance.",
           low="main tones closer together than usual", high="main tones further apart than usual"),
    Column("contrast_local_mean", "grey levels", "[0, ~128]", "lower",
           "Mean local standard deviation in 7x7 windows (working image).",
           low="less local contrast than usual", high="more local contrast than usual"),
    Column("contrast_local_std", "grey levels", "[0, ~128]", "lower",
           "Spread (std) of the local standard deviation over the image.",
           low="local contrast more even than usual", high="local contrast more uneven than usual"),
    Column("contrast_local_p10", "grey levels", "[0, ~128]", "lower",
           "10th percentile of local standard deviation: how flat the flattest areas are.",
           low="flattest areas flatter than usual", high="flattest areas more textured than usual"),
    Column("contrast_dark_channel", "intensity", "[0, 1]", "higher",
           "Mean dark channel (minimum over RGB, then over a 7x7 window) of the working image "
           "(He et al., CVPR 2009): haze, fog and lifted blacks raise it.",
           low="less hazy than usual", high="hazier than usual"),
)


def compute(ctx: ImageContext) -> dict[str, float]:
    """Contrast measures of one image."""
    p01, p05, p95, p99 = percentiles_from_hist(ctx.grey_hist, (1, 5, 95, 99)) / 255.0
    local = ctx.local_std
    local_mean, local_std = cv2.meanStdDev(local)
    r, g, b = cv2.split(ctx.rgb)
    dark = cv2.erode(cv2.min(cv2.min(r, g), b), np.ones((7, 7), np.uint8))
    return {
        "contrast_rms": float(cv2.meanStdDev(ctx.grey)[1][0, 0]) / 255.0,
        "contrast_michelson": float((p99 - p01) / (p99 + p01)) if p99 + p01 > 0 else 0.0,
        "contrast_range_p5_p95": float(p95 - p05),
        "contrast_local_mean": float(local_mean[0, 0]),
        "contrast_local_std": float(local_std[0, 0]),
        "contrast_local_p10": quantile(local, 0.1),
        "contrast_dark_channel": cv2.mean(dark)[0] / 255.0,
    }
