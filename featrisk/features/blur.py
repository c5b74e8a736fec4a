"""Blur and sharpness: Laplacian, gradient energy, spectrum, tile map, scale ratio, coherence.

Lower sharpness values mean blurrier images. The tile statistics read a 4x4 grid so that an
image blurred only in part (a moving subject, a shallow depth of field) shows as a spread
between its sharpest and its blurriest tiles; gradient coherence rises when blur has one
direction (camera shake, motion).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from featrisk.features._base import (
    _BRACKET_MIN,
    Column,
    ImageContext,
    central_crop,
    grid_means,
    percentile_linear,
    quantile,
    quantile_of_whole,
)

#: Side of the square resample used for the spectrum, pixels.
SPECTRUM_SIZE = 64
#: Radial frequency (cycles/pixel, Nyquist = 0.5) above which energy counts as high.
HIGH_FREQ = 0.25
#: Tile grid per side for the local blur map.
TILE_GRID = 4
#: Coarser scales (successive pyrDown halvings) at which edge strength is compared.
EDGE_LEVELS = ("half", "quarter", "eighth")
#: (low, high) words of each edge-ratio column, by level and statistic: the half-size ratio
#: reads slight softening, the quarter-size one wider smears, the eighth-size one heavy blur;
#: the largest direction tells blur along one direction, the smallest blur in all of them.
_EDGE_WORDS = {
    ("half", ""): ("crisper edges than usual", "softer edges than usual"),
    ("half", "_max"): ("edges crisp in every direction", "edges soft in some direction"),
    ("half", "_min"): ("edges crisp in some direction", "edges soft in every direction"),
    ("quarter", ""): ("edges less smeared than usual", "edges more smeared than usual"),
    ("quarter", "_max"): ("edges unsmeared in every direction", "edges smeared in some direction"),
    ("quarter", "_min"): ("edges unsmeared in some direction", "edges smeared in every direction"),
    ("eighth", ""): ("less heavy blur than usual", "heavier blur than usual"),
    ("eighth", "_max"): ("no heavy blur in any direction", "heavy blur along some direction"),
    ("eighth", "_min"): ("some direction free of heavy blur", "heavy blur in every direction"),
}
#: Quantile of the absolute directional derivative that stands for the strongest edges.
EDGE_QUANTILE = 0.99

COLUMNS = (
    Column("blur_laplacian_var", "grey level^2", "[0, ~1e4]", "lower",
           "Variance of the 4-neighbour Laplacian on the working image (short side <= 224 px).",
           low="less fine detail than usual", high="more fine detail than usual"),
    Column("blur_laplacian_var_native", "grey level^2", "[0, ~1e4]", "lower",
           "Variance of the Laplacian at native resolution (large photos score lower than "
           "their working image: detail per pixel falls with resolution).",
           low="less detail at full resolution", high="more detail at full resolution"),
    Column("blur_laplacian_norm", "ratio", "[0, ~10]", "lower",
           "Laplacian variance / (luminance variance + 1): sharpness normalised for contrast, "
           "so flat but sharp scenes are not taken for blur.",
           low="less detail for its contrast", high="more detail for its contrast"),
    Column("blur_tenengrad", "grey level^2", "[0, ~1e5]", "lower",
           "Mean squared Sobel gradient magnitude (Tenengrad) on the working image.",
           low="softer overall than usual", high="crisper overall than usual"),
    Column("blur_hf_share", "share", "[0, 1]", "lower",
           "Share of spectral energy above 0.25 cycles/px on a 64x64 area-resampled, "
           "Hann-windowed luminance (DC removed).",
           low="less fine texture than usual", high="more fine texture than usual"),
    Column("blur_tile_min", "log10 grey level^2", "[0, ~5]", "lower",
           "log10(1 + mean squared Laplacian) of the blurriest tile of a 4x4 grid.",
           low="blurriest area blurrier than usual", high="blurriest area sharper than usual"),
    Column("blur_tile_p25", "log10 grey level^2", "[0, ~5]", "lower",
           "25th percentile of the tile values.",
           low="many areas blurrier than usual", high="many areas sharper than usual"),
    Column("blur_tile_max", "log10 grey level^2", "[0, ~5]", "lower",
           "Sharpest tile: low only when the whole image is blurred.",
           low="sharpest area blurrier than usual", high="sharpest area sharper than usual"),
    Column("blur_tile_spread", "log10 ratio", "[0, ~5]", "higher",
           "Sharpest minus blurriest tile: high for partly blurred images.",
           low="sharpness more even than usual", high="sharpness more uneven than usual"),
    Column("blur_scale_ratio", "log10 ratio", "[-3, 3]", "lower",
           "log10 of Laplacian variance at working size over that at half size: how much "
           "detail lives at the finest scale.",
           low="pixel-level detail weaker than usual", high="pixel-level detail stronger than usual"),
    Column("blur_coherence", "ratio", "[0, 1]", "higher",
           "Global structure-tensor coherence of gradients: 0 isotropic, 1 one direction "
           "(motion blur, stripes).",
           low="less streaked one way than usual", high="more streaked one way than usual"),
    Column("blur_directional_ratio", "ratio", "[0, 1]", "lower",
           "Weakest over strongest directional second-difference energy, comparing 0 with "
           "90 degrees and 45 with 135 degrees (the smaller of the two ratios): low when "
           "detail is smeared along one direction (motion blur).",
           low="detail smeared more along one direction", high="detail more even across directions"),
    *(
        Column(f"blur_edge_ratio_{level}{stat}", "log10 ratio", "[~-3, 0]", "higher",
               f"log10 of the 99th percentile of the absolute directional derivative on the "
               f"{level}-size image (per working pixel) over that on the working image, "
               f"{what} over the 0, 90, 45 and 135 degree derivatives. The strongest edges keep "
               f"their contrast across scales, so the ratio reads edge width rather than "
               f"content: it rises as blur widens edges, until they are wider than the scale "
               f"(the eighth-size ratio keeps rising longest); the largest direction tells "
               f"motion blur.",
               low=_EDGE_WORDS[level, stat][0], high=_EDGE_WORDS[level, stat][1])
        for level in EDGE_LEVELS
        for stat, what in (("", "mean"), ("_max", "largest"), ("_min", "smallest"))
    ),
    Column("blur_motion_extent", "share", "0 or [0.02, 0.32]", "higher",
           "Motion-blur length the cepstrum implies, as a share of the short side: the radius "
           "of the deepest negative cepstral peak of the central square (linear motion blur "
           "puts periodic zeros in the spectrum, which show there as a dip at the blur "
           "length); meaningless when blur_motion_cepstrum is low; 0 under 64 px.",
           low="shorter motion streaks than usual", high="longer motion streaks than usual"),
    Column("blur_motion_cepstrum", "log-amplitude", "[0, ~0.25]", "higher",
           "Depth of that negative cepstral peak: median 0.028 on sharp photos, 0.09-0.13 "
           "under linear motion blur; 0 under 64 px.",
           low="weaker motion-blur trace than usual", high="stronger motion-blur trace than usual"),
    Column("blur_repeat_share", "share", "[0, 1]", "higher",
           "Share of adjacent native pixel pairs (horizontal and vertical) with identical "
           "luminance in the central <= 1024 px: pixelation and nearest-neighbour upscaling "
           "raise it (so do clipped or flat areas).",
           low="fewer blocky repeated pixels than usual", high="more blocky repeated pixels than usual"),
)


def _hann2d(n: int) -> np.ndarray:
    w = np.hanning(n).astype(np.float32)
    return np.outer(w, w)


def _centred_windowed(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """A spectrum's input: the image as float32 minus its mean, times the window."""
    return (image.astype(np.float32) - np.float32(cv2.mean(image)[0])) * window


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
    spec = cv2.dft(_centred_windowed(small, _WINDOW),
                   flags=cv2.DFT_COMPLEX_OUTPUT)[:, : SPECTRUM_SIZE // 2 + 1]
    re, im = spec[..., 0], spec[..., 1]
    power = re * re + im * im
    power[0, 0] = 0.0
    total = float(power.sum(dtype=np.float64))
    return float(power[_HIGH].sum(dtype=np.float64) / total) if total > 1e-9 else 0.0


#: Largest side (px) of the central square whose cepstrum finds motion blur.
CEPSTRUM_SIZE = 128
#: Radii searched for the cepstrum's negative peak, as shares of the square's side (the
#: smallest at least 2 px).
CEPSTRUM_RADII = (3 / 128, 40 / 128)
#: Smallest short side (px) given a cepstrum: on 32 px CIFAR-10 images the extent's rank
#: correlation with motion-blur severity was 0.24 (0.96 on 224 px ImageNet crops).
CEPSTRUM_MIN_SIDE = 64


@functools.cache
def _cepstrum_grid(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hann window, the flat indices of the searched ring and their radii (px)."""
    f = np.fft.fftfreq(n) * n
    radius = np.hypot(*np.meshgrid(f, f, indexing="ij")).ravel()
    lo, hi = max(2.0, CEPSTRUM_RADII[0] * n), CEPSTRUM_RADII[1] * n
    ring = np.flatnonzero((radius >= lo) & (radius <= hi))
    return _hann2d(n), ring, radius[ring]


def motion_cepstrum(grey: np.ndarray) -> tuple[float, float]:
    """Motion-blur extent and cepstral dip depth of a uint8 image.

    Parameters
    ----------
    grey : ndarray of uint8, shape (H, W)

    Returns
    -------
    extent : float
        Radius of the deepest negative peak of the real cepstrum (inverse DFT of the log
        amplitude spectrum) of the central square, as a share of its side, in
        [~0.02, ~0.32]; 0 for images under :data:`CEPSTRUM_MIN_SIDE` px.
    depth : float
        Minus that peak's value (>= 0 in practice); about 0.03 on sharp photos.
    """
    h, w = grey.shape
    side = min(h, w)
    if side < CEPSTRUM_MIN_SIDE:
        return 0.0, 0.0
    top, left = (h - side) // 2, (w - side) // 2
    square = grey[top : top + side, left : left + side]
    n = min(side, CEPSTRUM_SIZE)
    if n != side:
        square = cv2.resize(square, (n, n), interpolation=cv2.INTER_AREA)
    window, ring, radii = _cepstrum_grid(n)
    spec = cv2.dft(_centred_windowed(square, window), flags=cv2.DFT_COMPLEX_OUTPUT)
    re, im = spec[..., 0], spec[..., 1]
    # numpy, not cv2.magnitude: OpenCV's SIMD path rounds by the memory alignment of the
    # copies it makes of these strided views, so the depth varied between runs (by 2e-9)
    spec[..., 0] = np.log(np.sqrt(re * re + im * im) + np.float32(1e-3))
    spec[..., 1] = 0.0  # the log amplitude as a complex array: OpenCV's inverse DFT of a
    #                     one-channel array would read it as packed (CCS) complex values
    ceps = cv2.dft(spec, flags=cv2.DFT_INVERSE | cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT).ravel()
    values = ceps[ring]
    i = int(values.argmin())
    return float(radii[i] / n), float(-values[i])


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


_DIAGONALS = (
    np.array([[0, 0, 1], [0, 0, 0], [-1, 0, 0]], dtype=np.float32),
    np.array([[1, 0, 0], [0, 0, 0], [0, 0, -1]], dtype=np.float32),
)


def strong_edge_levels(grey: np.ndarray, gx: np.ndarray, gy: np.ndarray,
                       halvings: list[np.ndarray], levels: int) -> np.ndarray:
    """Strongest-edge derivatives at the working scale and ``levels`` halvings of it.

    Parameters
    ----------
    grey : ndarray of float32, shape (H, W)
        Working-image luminance, grey levels 0-255.
    gx, gy : ndarray of float32, shape (H, W)
        Its Sobel 3x3 derivatives (reused, not recomputed).
    halvings : list of ndarray of float32
        Its successive pyrDown halvings (:meth:`ImageContext.halvings`), at most ``levels``;
        fewer when the image is too small to halve further.
    levels : int
        Number of halved scales to report.

    Returns
    -------
    ndarray, shape (levels + 1, 4)
        Per scale, the ``EDGE_QUANTILE`` quantile of the absolute derivative along 0, 90, 45
        and 135 degrees (Sobel for the first two, a diagonal central difference for the
        others), divided by 2**scale so every row is in grey levels per working pixel.
        Scales missing from ``halvings`` repeat the previous row.
    """
    out = np.empty((levels + 1, 4))
    for i in range(levels + 1):
        if i > len(halvings):
            out[i] = out[i - 1]
            continue
        im = grey if i == 0 else halvings[i - 1]
        dx = gx if i == 0 else cv2.Sobel(im, cv2.CV_32F, 1, 0, ksize=3)
        dy = gy if i == 0 else cv2.Sobel(im, cv2.CV_32F, 0, 1, ksize=3)
        derivs = (dx, dy, *(cv2.filter2D(im, cv2.CV_32F, k) for k in _DIAGONALS))
        out[i] = _top_quantiles(derivs, whole=i == 0) / 2**i + 1e-3
    return out


#: Exclusive bound of the absolute Sobel 3x3 and diagonal-difference responses of a uint8
#: image (whole numbers, Sobel at most 4 x 255).
_DERIV_BOUND = 4 * 255 + 1


def _top_quantiles(derivs: tuple[np.ndarray, ...], *, whole: bool = False) -> np.ndarray:
    """``quantile(abs(d), EDGE_QUANTILE)`` of each map (same values, found faster).

    ``whole`` says the maps are derivatives of the uint8 working image, whole numbers that a
    16-bit histogram ranks exactly in one pass.
    """
    n = derivs[0].size
    if whole and n >= _BRACKET_MIN:
        return np.array([quantile_of_whole(np.abs(d), EDGE_QUANTILE, _DERIV_BOUND)
                         for d in derivs])
    if n >= _BRACKET_MIN:
        return np.array([quantile(np.abs(d), EDGE_QUANTILE) for d in derivs])
    k = min(n - 1, int(EDGE_QUANTILE * n))
    stacked = np.abs(np.stack(derivs).reshape(len(derivs), n))
    return np.partition(stacked, k, axis=1)[:, k].astype(np.float64)


def edge_ratios(strong: np.ndarray) -> dict[str, float]:
    """The ``blur_edge_ratio_*`` columns from :func:`strong_edge_levels` output."""
    r = np.log10(strong[1:] / strong[0])
    stats = np.column_stack([r.mean(axis=1), r.max(axis=1), r.min(axis=1)]).ravel().tolist()
    return dict(zip(_EDGE_KEYS, stats, strict=True))


_EDGE_KEYS = tuple(f"blur_edge_ratio_{level}{stat}" for level in EDGE_LEVELS
                   for stat in ("", "_max", "_min"))


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
    half = next(iter(ctx.halvings(1, min_side=4)), ctx.grey_f)
    half_var = _var(cv2.Laplacian(half, cv2.CV_32F, ksize=1))
    extent, depth = motion_cepstrum(ctx.grey)
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
        **edge_ratios(strong_edge_levels(ctx.grey_f, gx, gy,
                                         ctx.halvings(len(EDGE_LEVELS), min_side=6),
                                         len(EDGE_LEVELS))),
        "blur_motion_extent": extent,
        "blur_motion_cepstrum": depth,
        "blur_repeat_share": repeat_share(ctx.native_grey),
    }
