"""Overlay: weather-like veils and specks, radial (zoom) blur and tone banding.

Fog, snow, rain and spatter lay something over the scene; a zoom blur smears along rays
from the centre; posterisation and some tone curves leave gaps in the histogram. All on the
working image (short side <= 224 px) except the level gaps.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, quantile_of_whole

#: Window of the dark channel's minimum filter, working px.
DARK_WINDOW = 9
#: Structuring element (ellipse) of the white top-hat that finds bright specks, working px.
SPECK_WINDOW = 7
#: Top-hat response (grey levels) and largest HSV saturation of a speck pixel.
SPECK_LEVEL = 40
SPECK_MAX_SATURATION = 64  # of 255
#: Side of the native central crop whose histograms give the level gaps, px (resizing to the
#: working size would fill the gaps).
LEVELS_CROP = 256
#: Pixels nearer the centre than this share of the short side carry no radial direction.
RADIAL_MIN_RADIUS = 0.15

COLUMNS = (
    Column("overlay_veil", "luminance", "[0, 1]", "higher",
           "10th percentile of the dark channel (minimum over RGB and a 9x9 window): even the "
           "darkest parts of a fogged or hazed scene are lifted.",
           low="darkest parts less veiled than usual", high="darkest parts more veiled than usual"),
    Column("overlay_speck_share", "share", "[0, 1]", "higher",
           "Share of pixels that are small, bright, nearly colourless specks (white top-hat "
           "with a 7x7 ellipse > 40 grey levels, saturation < 0.25): snow, rain, spatter.",
           low="fewer white specks than usual", high="more white specks than usual"),
    Column("overlay_radial_ratio", "log10 ratio", "[~-1, ~2]", "higher",
           "log10 of the tangential over the radial gradient energy about the image centre: "
           "~0 for photos, rising under zoom (radial) blur, which smears along the rays.",
           low="fewer streaks radiating from the centre", high="more streaks radiating from the centre"),
    Column("overlay_level_gaps", "share", "[0, 1]", "higher",
           "Share of empty histogram levels between the 1st and 99th percentile, mean over R, "
           "G and B, on the native image's central 256 x 256 px: banding from posterisation, "
           "low bit depth or strong tone curves.",
           low="smoother colour gradations than usual", high="more colour banding than usual"),
)


def veil(rgb: np.ndarray) -> float:
    """10th percentile of the dark channel, in [0, 1]."""
    r, g, b = cv2.split(rgb)  # OpenCV's per-channel minimum: far faster than np.min(axis=2)
    dark = cv2.erode(cv2.min(cv2.min(r, g), b), np.ones((DARK_WINDOW, DARK_WINDOW), np.uint8))
    return quantile_of_whole(dark, 0.10, 256) / 255.0


def speck_share(grey: np.ndarray, saturation: np.ndarray) -> float:
    """Share of pixels in bright, colourless specks smaller than the top-hat window."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SPECK_WINDOW, SPECK_WINDOW))
    tophat = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    specks = (tophat > SPECK_LEVEL) & (saturation < SPECK_MAX_SATURATION)
    return float(np.count_nonzero(specks) / grey.size)


@functools.lru_cache(maxsize=16)
def _rays(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels far enough from the centre of an ``h`` x ``w`` image, and their unit rays."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - (w - 1) / 2, ys - (h - 1) / 2
    r = np.sqrt(dx * dx + dy * dy)
    keep = r > RADIAL_MIN_RADIUS * min(h, w)
    ux, uy = dx[keep] / r[keep], dy[keep] / r[keep]
    for a in (keep, ux, uy):
        a.setflags(write=False)
    return keep, ux, uy


def radial_ratio(gx: np.ndarray, gy: np.ndarray) -> float:
    """log10 of tangential over radial gradient energy about the centre."""
    keep, ux, uy = _rays(*gx.shape)
    if not ux.size:
        return 0.0
    gxk, gyk = gx[keep], gy[keep]
    radial = gxk * ux + gyk * uy
    tangential = gyk * ux - gxk * uy
    return float(np.log10((np.sum(tangential ** 2, dtype=np.float64) + 1.0)
                          / (np.sum(radial ** 2, dtype=np.float64) + 1.0)))


def level_gaps(rgb: np.ndarray) -> float:
    """Mean share of empty levels between each channel's 1st and 99th percentile."""
    h, w = rgb.shape[:2]
    top, left = max(0, (h - LEVELS_CROP) // 2), max(0, (w - LEVELS_CROP) // 2)
    rgb = np.ascontiguousarray(rgb[top : top + LEVELS_CROP, left : left + LEVELS_CROP])
    shares = []
    for c in range(3):
        hist = cv2.calcHist([rgb], [c], None, [256], [0, 256]).ravel()
        cdf = np.cumsum(hist) / hist.sum()
        lo, hi = int(np.searchsorted(cdf, 0.01)), int(np.searchsorted(cdf, 0.99))
        shares.append(1.0 - np.count_nonzero(hist[lo : hi + 1]) / (hi - lo + 1))
    return float(np.mean(shares))


def compute(ctx: ImageContext) -> dict[str, float]:
    """Overlay measures of one image."""
    gx, gy, _ = ctx.gradients
    return {
        "overlay_veil": veil(ctx.rgb),
        "overlay_speck_share": speck_share(ctx.grey, ctx.hsv[..., 1]),
        "overlay_radial_ratio": radial_ratio(gx, gy),
        "overlay_level_gaps": level_gaps(ctx.native_rgb),
    }
