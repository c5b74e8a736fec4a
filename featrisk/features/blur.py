"""Blur and sharpness: Laplacian, gradient energy, spectrum, tile map, scale ratio, coherence.

Lower sharpness values mean blurrier images. The tile statistics read a 4x4 grid so that an
image blurred only in part (a moving subject, a shallow depth of field) shows as a spread
between its sharpest and its blurriest tiles; gradient coherence rises when blur has one
direction (camera shake, motion).
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import (
    Column,
    ImageContext,
    central_crop,
    grid_means,
    percentile_linear,
)

#: Side of the square resample used for the spectrum, pixels.
SPECTRUM_SIZE = 64
#: Radial frequency (cycles/pixel, Nyquist = 0.5) above which energy counts as high.
HIGH_FREQ = 0.25
#: Tile grid per side for the local blur map.
TILE_GRID = 4

COLUMNS = (
    Column("blur_laplacian_var", "grey level^2", "[0, ~1e4]", "lower",
           "Variance of the 4-neighbour Laplacian on the working image (short side <= 224 px)."),
    Column("blur_laplacian_var_native", "grey level^2", "[0, ~1e4]", "lower",
           "Variance of the Laplacian at native resolution (large photos score lower than "
           "their working image: detail per pixel falls with resolution)."),
    Column("blur_laplacian_norm", "ratio", "[0, ~10]", "lower",
           "Laplacian variance / (luminance variance + 1): sharpness normalised for contrast, "
           "so flat but sharp scenes are not taken for blur."),
    Column("blur_tenengrad", "grey level^2", "[0, ~1e5]", "lower",
           "Mean squared Sobel gradient magnitude (Tenengrad) on the working image."),
    Column("blur_hf_share", "share", "[0, 1]", "lower",
           "Share of spectral energy above 0.25 cycles/px on a 64x64 area-resampled, "
           "Hann-windowed luminance (DC removed)."),
    Column("blur_tile_min", "log10 grey level^2", "[0, ~5]", "lower",
           "log10(1 + mean squared Laplacian) of the blurriest tile of a 4x4 grid."),
    Column("blur_tile_p25", "log10 grey level^2", "[0, ~5]", "lower",
           "25th percentile of the tile values."),
    Column("blur_tile_max", "log10 grey level^2", "[0, ~5]", "lower",
           "Sharpest tile: low only when the whole image is blurred."),
    Column("blur_tile_spread", "log10 ratio", "[0, ~5]", "higher",
           "Sharpest minus blurriest tile: high for partly blurred images."),
    Column("blur_scale_ratio", "log10 ratio", "[-3, 3]", "lower",
           "log10 of Laplacian variance at working size over that at half size: how much "
           "detail lives at the finest scale."),
    Column("blur_coherence", "ratio", "[0, 1]", "higher",
           "Global structure-tensor coherence of gradients: 0 isotropic, 1 one direction "
           "(motion blur, stripes)."),
    Column("blur_directional_ratio", "ratio", "[0, 1]", "lower",
           "Weakest over strongest directional second-difference energy, comparing 0 with "
           "90 degrees and 45 with 135 degrees (the smaller of the two ratios): low when "
           "detail is smeared along one direction (motion blur)."),
    Column("blur_repeat_share", "share", "[0, 1]", "higher",
           "Share of adjacent native pixel pairs (horizontal and vertical) with identical "
           "luminance in the central <= 1024 px: pixelation and nearest-neighbour upscaling "
           "raise it (so do clipped or flat areas)."),
)


def _hann2d(n: int) -> np.ndarray:
    w = np.hanning(n).astype(np.float32)
    return np.outer(w, w)


_WINDOW = _hann2d(SPECTRUM_SIZE)
_FREQ = np.hypot(*np.meshgrid(np.fft.fftfreq(SPECTRUM_SIZE), np.fft.rfftfreq(SPECTRUM_SIZE),
                              indexing="ij"))
_HIGH = _FREQ > HIGH_FREQ


def hf_share(grey: np.ndarray) -> float:
    """Share of spectral energy above ``HIGH_FREQ`` cycles/px, in [0, 1]; 0 for flat images.

    The energies are those of the real-input half spectrum (``numpy.fft.rfft2`` layout),
    computed with OpenCV's float32 DFT.
    """
    interp = cv2.INTER_AREA if min(grey.shape) >= SPECTRUM_SIZE else cv2.INTER_LINEAR
    small = cv2.resize(grey, (SPECTRUM_SIZE, SPECTRUM_SIZE), interpolation=interp)
    small = (small.astype(np.float32) - np.float32(cv2.mean(small)[0])) * _WINDOW
    spec = cv2.dft(small, flags=cv2.DFT_COMPLEX_OUTPUT)[:, : SPECTRUM_SIZE // 2 + 1]
    re, im = spec[..., 0], spec[..., 1]
    power = re * re + im * im
    power[0, 0] = 0.0
    total = float(power.sum(dtype=np.float64))
    return float(power[_HIGH].sum(dtype=np.float64) / total) if total > 1e-9 else 0.0


def _var(x: np.ndarray) -> float:
    """Population variance with double accumulation (OpenCV), no temporary arrays."""
    return float(cv2.meanStdDev(x)[1][0, 0]) ** 2


def coherence(gx: np.ndarray, gy: np.ndarray) -> float:
    """Structure-tensor coherence of the summed gradient products, in [0, 1]."""
    n = gx.size
    jxx, jyy = cv2.norm(gx, cv2.NORM_L2SQR) / n, cv2.norm(gy, cv2.NORM_L2SQR) / n
    jxy = cv2.mean(cv2.multiply(gx, gy))[0]
    trace = jxx + jyy
    return float(np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / trace) if trace > 1e-9 else 0.0


_DIRECTIONAL = tuple(
    np.array(k, dtype=np.float32) for k in (
        [[0, 0, 0], [1, -2, 1], [0, 0, 0]],
        [[0, 1, 0], [0, -2, 0], [0, 1, 0]],
        [[1, 0, 0], [0, -2, 0], [0, 0, 1]],
        [[0, 0, 1], [0, -2, 0], [1, 0, 0]],
    )
)


def directional_ratio(grey: np.ndarray) -> float:
    """min(E0/E90, E45/E135) style ratio of directional second-difference energies, in [0, 1]."""
    e = [cv2.norm(cv2.filter2D(grey, cv2.CV_32F, k), cv2.NORM_L2SQR) / grey.size
         for k in _DIRECTIONAL]
    ratios = [min(a, b) / max(a, b) for a, b in ((e[0], e[1]), (e[2], e[3])) if max(a, b) > 1e-9]
    return min(ratios) if ratios else 1.0


def repeat_share(grey: np.ndarray) -> float:
    """Share of horizontally or vertically adjacent pixel pairs with equal values, in [0, 1]."""
    g = central_crop(grey)
    h, w = g.shape
    pairs = h * (w - 1) + (h - 1) * w
    if pairs <= 0:
        return 0.0
    same = cv2.countNonZero(cv2.compare(g[:, 1:], g[:, :-1], cv2.CMP_EQ)) if w > 1 else 0
    same += cv2.countNonZero(cv2.compare(g[1:, :], g[:-1, :], cv2.CMP_EQ)) if h > 1 else 0
    return same / pairs


def compute(ctx: ImageContext) -> dict[str, float]:
    """Blur measures of one image."""
    lap = ctx.laplacian
    lap_var = _var(lap)
    native_var = (
        lap_var if ctx.native_grey is ctx.grey
        else _var(cv2.Laplacian(ctx.native_grey, cv2.CV_32F, ksize=1))
    )
    gx, gy, mag = ctx.gradients
    tiles = np.log10(1.0 + grid_means(lap * lap, TILE_GRID)).ravel()
    half = cv2.pyrDown(ctx.grey_f) if min(ctx.grey.shape) >= 4 else ctx.grey_f
    half_var = _var(cv2.Laplacian(half, cv2.CV_32F, ksize=1))
    return {
        "blur_laplacian_var": lap_var,
        "blur_laplacian_var_native": native_var,
        "blur_laplacian_norm": lap_var / (_var(ctx.grey) + 1.0),
        "blur_tenengrad": cv2.norm(mag, cv2.NORM_L2SQR) / mag.size,
        "blur_hf_share": hf_share(ctx.grey),
        "blur_tile_min": float(tiles.min()),
        "blur_tile_p25": percentile_linear(tiles, 25),
        "blur_tile_max": float(tiles.max()),
        "blur_tile_spread": float(tiles.max() - tiles.min()),
        "blur_scale_ratio": float(np.log10((lap_var + 1e-3) / (half_var + 1e-3))),
        "blur_coherence": coherence(gx, gy),
        "blur_directional_ratio": directional_ratio(ctx.grey_f),
        "blur_repeat_share": repeat_share(ctx.native_grey),
    }
