"""Noise: Immerkaer's fast sigma estimate on luminance and chroma, on flat areas, and impulses.

Reference: J. Immerkaer, "Fast noise variance estimation", Computer Vision and Image
Understanding 64(2), 1996. The estimator convolves with the difference of two Laplacians,
which cancels image structure up to second order, and reads sigma from the mean absolute
response. Higher sigma = noisier. Texture also raises it, which is why ``noise_sigma_flat``
repeats the estimate on the flattest half of the image.
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, grid_means, median_small, quantile

_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_SCALE = float(np.sqrt(np.pi / 2.0) / 6.0)
#: Absolute difference to the 3x3 median (grey levels) that marks an impulse pixel.
IMPULSE_LEVEL = 60

COLUMNS = (
    Column("noise_sigma_luma", "grey levels", "[0, ~60]", "higher",
           "Immerkaer sigma of luminance at native resolution (Gaussian-noise std estimate).",
           low="less grain at full resolution", high="more grain at full resolution"),
    Column("noise_sigma_luma_work", "grey levels", "[0, ~60]", "higher",
           "Immerkaer sigma of luminance on the working image (area averaging lowers noise).",
           low="less visible grain than usual", high="more visible grain than usual"),
    Column("noise_sigma_flat", "grey levels", "[0, ~60]", "higher",
           "Immerkaer sigma over the flattest half of the working image (texture-robust).",
           low="smooth areas cleaner than usual", high="smooth areas grainier than usual"),
    Column("noise_sigma_chroma", "grey levels", "[0, ~60]", "higher",
           "Mean Immerkaer sigma of the Cr and Cb channels of the working image.",
           low="less colour noise than usual", high="more colour noise than usual"),
    Column("noise_impulse_frac", "share", "[0, 1]", "higher",
           "Share of pixels differing from their 3x3 median by more than 60 grey levels "
           "(salt-and-pepper, dead pixels).",
           low="fewer stray dots than usual", high="more stray dots than usual"),
    Column("noise_tile_spread", "log10 ratio", "[0, ~3]", "higher",
           "log10 of the noisiest over the median tile sigma on a 4x4 grid (working image): a "
           "noisy or textured patch pasted over part of the image raises it.",
           low="grain more even than usual", high="grain more uneven than usual"),
)


def immerkaer_response(grey: np.ndarray) -> np.ndarray:
    """Absolute response to Immerkaer's kernel (valid region only), float32."""
    src = grey if grey.dtype in (np.uint8, np.float32) else grey.astype(np.float32)
    resp = np.abs(cv2.filter2D(src, cv2.CV_32F, _KERNEL))  # integer kernel: exact either way
    return resp[1:-1, 1:-1] if min(resp.shape) > 2 else resp


def immerkaer_sigma(grey: np.ndarray) -> float:
    """Immerkaer's noise sigma estimate, in the grey units of the input (>= 0)."""
    return _SCALE * cv2.mean(immerkaer_response(grey))[0]


def tile_spread(resp: np.ndarray) -> float:
    """log10((max + 0.5) / (median + 0.5)) of per-tile Immerkaer sigma on a 4x4 grid."""
    tiles = _SCALE * grid_means(resp, 4).ravel()
    return float(np.log10((tiles.max() + 0.5) / (median_small(tiles) + 0.5)))


def compute(ctx: ImageContext) -> dict[str, float]:
    """Noise measures of one image."""
    resp = immerkaer_response(ctx.grey)
    mag = ctx.gradients[2]
    mag = mag[1:-1, 1:-1] if min(mag.shape) > 2 else mag
    flat_mask = (mag <= quantile(mag, 0.5)).view(np.uint8)
    flat_n = cv2.countNonZero(flat_mask)
    _, cr, cb = cv2.split(cv2.cvtColor(ctx.rgb, cv2.COLOR_RGB2YCrCb))
    chroma = 0.5 * (immerkaer_sigma(cr) + immerkaer_sigma(cb))
    impulses = cv2.absdiff(ctx.grey, cv2.medianBlur(ctx.grey, 3)) > IMPULSE_LEVEL
    resp_mean = cv2.mean(resp)[0]
    native = ctx.native_grey
    return {
        "noise_sigma_luma": immerkaer_sigma(native) if native is not ctx.grey
        else _SCALE * resp_mean,
        "noise_sigma_luma_work": _SCALE * resp_mean,
        "noise_sigma_flat": _SCALE * cv2.mean(resp, mask=flat_mask)[0] if flat_n else 0.0,
        "noise_sigma_chroma": chroma,
        "noise_impulse_frac": np.count_nonzero(impulses) / impulses.size,
        "noise_tile_spread": tile_spread(resp),
    }
