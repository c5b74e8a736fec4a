"""More damage families for :mod:`featrisk.degrade`: warps, optics, weather, codecs and tones.

The first fourteen families of :mod:`featrisk.degrade` leave out warps, zoom and glass blur,
weather, multiplicative noise, resampling, WebP, banding, rain, spatter, shadows and grid
masks. These thirteen are written with OpenCV and numpy only (no augmentation library, so a
benchmark damaged by one stays independent of featrisk's training). Same contract as
:func:`featrisk.degrade.apply`: RGB uint8 in and out, every random draw independent of the
severity, so for one seed the damage grows smoothly from 1 to 5.

==============  ================================================  =====  =====  =====  =====  =====
family          parameter                                         1      2      3      4      5
==============  ================================================  =====  =====  =====  =====  =====
elastic         RMS displacement of a smooth random field, px     1.0    1.8    2.8    4.0    5.5
glass_blur      largest per-pixel jitter, px (then sigma 0.7 blur)  1.0    1.5    2.0    2.5    3.5
zoom_blur       largest zoom of the averaged copies               1.04   1.08   1.12   1.18   1.25
fog             opacity of a fractal white veil                   0.25   0.4    0.55   0.7    0.85
snow            share of pixels seeding a flake                   0.002  0.005  0.01   0.016  0.025
speckle_noise   sigma of multiplicative noise (grain)             0.12   0.2    0.3    0.42   0.6
resample        downscale factor before upscaling back            0.6    0.45   0.35   0.27   0.2
webp            WebP quality (OpenCV)                             40     20     10     5      1
posterize       bits kept per channel                             6      5      4      3      2
rain            share of pixels seeding a streak                  0.002  0.004  0.007  0.011  0.016
spatter         share of the image under drops (mud or water)     0.04   0.08   0.13   0.19   0.27
shadow          brightness kept under 1-3 soft polygons           0.75   0.6    0.47   0.36   0.26
grid_mask       side of the black squares / grid period           0.25   0.35   0.45   0.55   0.65
==============  ================================================  =====  =====  =====  =====  =====

Rain also dims and softens the scene (brightness x 0.94 to 0.74, blur sigma 0.3 to 1.1 px).
Pixel values (displacements, jitter, flake size, streak length, drop size, grid period) are
at a 224 px short side and scale with the image, as in :mod:`featrisk.degrade`.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["FAMILIES", "REGISTRY"]

REFERENCE_SIDE = 224
ELASTIC_RMS = (1.0, 1.8, 2.8, 4.0, 5.5)
ELASTIC_SMOOTHNESS = 6.0  # px: Gaussian sigma of the displacement field at 224 px
GLASS_JITTER = (1.0, 1.5, 2.0, 2.5, 3.5)
GLASS_SIGMA = 0.7
ZOOM_MAX = (1.04, 1.08, 1.12, 1.18, 1.25)
ZOOM_COPIES = 10
FOG_OPACITY = (0.25, 0.4, 0.55, 0.7, 0.85)
SNOW_DENSITY = (0.002, 0.005, 0.01, 0.016, 0.025)
SPECKLE_SIGMA = (0.12, 0.2, 0.3, 0.42, 0.6)
RESAMPLE_FACTOR = (0.6, 0.45, 0.35, 0.27, 0.2)
WEBP_QUALITY = (40, 20, 10, 5, 1)
POSTERIZE_BITS = (6, 5, 4, 3, 2)
RAIN_DENSITY = (0.002, 0.004, 0.007, 0.011, 0.016)
RAIN_DIM = (0.94, 0.89, 0.84, 0.79, 0.74)
RAIN_BLUR = (0.3, 0.5, 0.7, 0.9, 1.1)  # px at 224
RAIN_LENGTH = 15.0  # px at 224
SPATTER_COVER = (0.04, 0.08, 0.13, 0.19, 0.27)
SPATTER_DROP = 2.5  # px at 224: Gaussian sigma of the field the drops are cut from
SHADOW_KEEP = (0.75, 0.6, 0.47, 0.36, 0.26)
GRID_HOLE = (0.25, 0.35, 0.45, 0.55, 0.65)


def _scale(image: np.ndarray) -> float:
    return min(image.shape[:2]) / REFERENCE_SIDE


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _remap(image: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _elastic(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Local warp by a smooth random displacement field of growing amplitude."""
    h, w = image.shape[:2]
    sigma = max(2.0, ELASTIC_SMOOTHNESS * _scale(image))
    field = rng.standard_normal((h, w, 2)).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
    field /= max(float(np.sqrt((field ** 2).mean() * 2)), 1e-12)
    amp = max(ELASTIC_RMS[severity - 1] * _scale(image), 0.3 * severity)
    return _remap(image, field[..., 0] * amp, field[..., 1] * amp)


def _glass_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Frosted-glass look: each pixel taken from a random nearby one, then a light blur."""
    h, w = image.shape[:2]
    jitter = rng.uniform(-1.0, 1.0, (h, w, 2)).astype(np.float32)
    amp = max(GLASS_JITTER[severity - 1] * _scale(image), 0.5 + 0.25 * severity)
    out = _remap(image, np.rint(jitter[..., 0] * amp), np.rint(jitter[..., 1] * amp))
    sigma = max(GLASS_SIGMA * _scale(image), 0.4)
    return cv2.GaussianBlur(out, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)


def _zoom_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Radial (zoom) blur: the mean of copies zoomed about the centre up to a factor."""
    h, w = image.shape[:2]
    acc = image.astype(np.float32)
    for z in np.linspace(1.0, ZOOM_MAX[severity - 1], ZOOM_COPIES)[1:]:
        m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), 0.0, float(z))
        acc += cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
    return _to_uint8(acc / ZOOM_COPIES)


def _fractal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth fractal field in [0, 1]: four octaves of bicubic-upsampled random grids."""
    h, w = shape
    field = np.zeros((h, w), np.float32)
    for k, cells in enumerate((2, 4, 8, 16)):
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        field += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) / 2 ** k
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / (hi - lo) if hi > lo else np.full_like(field, 0.5)


def _fog(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """A patchy white veil: ``x (1 - a m) + a m L`` with a fractal mask m and grey-white L."""
    mask = 0.35 + 0.65 * _fractal(image.shape[:2], rng)
    level = 255.0 * rng.uniform(0.82, 0.95)
    alpha = (FOG_OPACITY[severity - 1] * mask)[..., None]
    return _to_uint8(image.astype(np.float32) * (1 - alpha) + level * alpha)


def _streak(length: float, angle: float) -> np.ndarray:
    """A one-pixel line of ``length`` px at ``angle`` rad, as a filter kernel of ones."""
    kernel = np.zeros((int(length) | 1, int(length) | 1), np.float32)
    c = kernel.shape[0] // 2
    cv2.line(kernel, (round(c - c * np.cos(angle)), round(c - c * np.sin(angle))),
             (round(c + c * np.cos(angle)), round(c + c * np.sin(angle))), 1.0, 1)
    return kernel


def _snow(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Bright flakes smeared along a falling direction, over a slightly whitened scene."""
    h, w = image.shape[:2]
    seeds = rng.random((h, w)).astype(np.float32)
    size = rng.uniform(0.5, 1.0, (h, w)).astype(np.float32)
    angle = rng.uniform(np.pi / 3, 2 * np.pi / 3)
    flakes = (seeds < SNOW_DENSITY[severity - 1]).astype(np.float32) * size
    radius = max(1, round(1.0 * _scale(image)))
    flakes = cv2.dilate(flakes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    kernel = _streak(max(3.0, 5.0 * _scale(image)), angle)
    flakes = np.clip(cv2.filter2D(flakes, -1, kernel / kernel.sum()) * 2.0, 0, 1)[..., None]
    base = image.astype(np.float32) * (1 - 0.04 * severity) + 255.0 * 0.04 * severity
    return _to_uint8(base * (1 - flakes) + 245.0 * flakes)


def _speckle_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative noise ``x (1 + sigma n)``: grain that grows with brightness."""
    h, w = image.shape[:2]
    grain = max(1.0, _scale(image))
    cells = rng.standard_normal((max(1, round(h / grain)), max(1, round(w / grain)), 3))
    noise = cv2.resize(cells.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
    return _to_uint8(image.astype(np.float32) * (1 + SPECKLE_SIGMA[severity - 1] * noise))


def _resample(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Downscale with area averaging, then upscale back bicubically (a lost resolution)."""
    h, w = image.shape[:2]
    f = RESAMPLE_FACTOR[severity - 1]
    small = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _webp(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Re-encode as lossy WebP at falling quality with OpenCV and decode back."""
    ok, buf = cv2.imencode(".webp", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY[severity - 1]])
    if not ok:  # pragma: no cover - OpenCV wheels ship libwebp
        raise RuntimeError("this OpenCV build cannot encode WebP")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _posterize(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Keep the top bits of every channel (banding, as a low-bit-depth pipeline gives)."""
    drop = 8 - POSTERIZE_BITS[severity - 1]
    return ((image >> drop) << drop).astype(np.uint8)


def _rain(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Pale, slanted streaks over a dimmed and slightly softened scene."""
    h, w = image.shape[:2]
    seeds = rng.random((h, w)).astype(np.float32)
    angle = np.pi / 2 + rng.uniform(-0.35, 0.35)
    level = 255.0 * rng.uniform(0.75, 0.9)
    kernel = _streak(max(5.0, RAIN_LENGTH * _scale(image)), angle)
    drops = (seeds < RAIN_DENSITY[severity - 1]).astype(np.float32)
    streaks = np.clip(cv2.filter2D(drops, -1, kernel), 0, 1)[..., None] * 0.6
    sigma = max(RAIN_BLUR[severity - 1] * _scale(image), 0.3)
    base = cv2.GaussianBlur(image, (0, 0), sigma).astype(np.float32) * RAIN_DIM[severity - 1]
    return _to_uint8(base * (1 - streaks) + level * streaks)


def _spatter(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Drops on the lens: opaque brown mud, or water that blurs and lightens what it covers."""
    h, w = image.shape[:2]
    sigma = max(1.0, SPATTER_DROP * _scale(image))
    field = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
    mud = rng.random() < 0.5
    colour = rng.uniform(0.7, 1.0) * np.array([95.0, 70.0, 45.0], np.float32)
    cut = float(np.quantile(field, 1 - SPATTER_COVER[severity - 1]))
    mask = cv2.GaussianBlur((field > cut).astype(np.float32), (0, 0), 0.6 * sigma)[..., None]
    x = image.astype(np.float32)
    if mud:
        return _to_uint8(x * (1 - 0.9 * mask) + colour * 0.9 * mask)
    water = cv2.GaussianBlur(image, (0, 0), 2 * sigma).astype(np.float32) * 0.85 + 40.0
    return _to_uint8(x * (1 - mask) + water * mask)


def _shadow(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """One to three soft-edged polygons of shade, darker as severity rises."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        centre = rng.uniform(0.2, 0.8, 2) * (w, h)
        radius = rng.uniform(0.2, 0.45) * min(h, w) * rng.uniform(0.6, 1.4, 5)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 5))
        points = centre + np.column_stack([np.cos(angles), np.sin(angles)]) * radius[:, None]
        cv2.fillPoly(mask, [np.rint(points).astype(np.int32)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 3.0 * _scale(image)))[..., None]
    keep = 1 - (1 - SHADOW_KEEP[severity - 1]) * mask
    return _to_uint8(image.astype(np.float32) * keep)


def _grid_mask(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Black squares on a regular grid (a mesh, a fence, a grid dropout), larger with severity."""
    h, w = image.shape[:2]
    period = max(4.0, rng.uniform(0.12, 0.22) * min(h, w))
    side = GRID_HOLE[severity - 1] * period
    oy, ox = rng.uniform(0, period, 2)
    rows = ((np.arange(h) + oy) % period) < side
    cols = ((np.arange(w) + ox) % period) < side
    out = image.copy()
    out[np.ix_(rows, cols)] = 0
    return out


REGISTRY = {
    "elastic": _elastic, "glass_blur": _glass_blur, "zoom_blur": _zoom_blur, "fog": _fog,
    "snow": _snow, "speckle_noise": _speckle_noise, "resample": _resample, "webp": _webp,
    "posterize": _posterize, "rain": _rain, "spatter": _spatter, "shadow": _shadow,
    "grid_mask": _grid_mask,
}
FAMILIES: tuple[str, ...] = tuple(REGISTRY)
