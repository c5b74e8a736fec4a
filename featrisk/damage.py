"""More damage families for :mod:`featrisk.degrade`: warps, optics, weather, codecs and tones.

The first fourteen families of :mod:`featrisk.degrade` leave out warps, zoom and glass blur,
weather, multiplicative noise, resampling, WebP and banding. These nine are
written with OpenCV and numpy only (no augmentation library, so a benchmark damaged by one
stays independent of featrisk's training). Same contract as :func:`featrisk.degrade.apply`:
RGB uint8 in and out, every random draw independent of the severity, so for one seed the
damage grows smoothly from 1 to 5.

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
==============  ================================================  =====  =====  =====  =====  =====

Pixel values (displacements, jitter, flake size) are at a 224 px short side and scale with
the image, as in :mod:`featrisk.degrade`.
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


def _snow(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Bright flakes smeared along a falling direction, over a slightly whitened scene."""
    h, w = image.shape[:2]
    seeds = rng.random((h, w)).astype(np.float32)
    size = rng.uniform(0.5, 1.0, (h, w)).astype(np.float32)
    angle = rng.uniform(np.pi / 3, 2 * np.pi / 3)
    flakes = (seeds < SNOW_DENSITY[severity - 1]).astype(np.float32) * size
    radius = max(1, round(1.0 * _scale(image)))
    flakes = cv2.dilate(flakes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    length = max(3.0, 5.0 * _scale(image))
    kernel = np.zeros((int(length) | 1, int(length) | 1), np.float32)
    c = kernel.shape[0] // 2
    cv2.line(kernel, (round(c - c * np.cos(angle)), round(c - c * np.sin(angle))),
             (round(c + c * np.cos(angle)), round(c + c * np.sin(angle))), 1.0, 1)
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


REGISTRY = {
    "elastic": _elastic, "glass_blur": _glass_blur, "zoom_blur": _zoom_blur, "fog": _fog,
    "snow": _snow, "speckle_noise": _speckle_noise, "resample": _resample, "webp": _webp,
    "posterize": _posterize,
}
FAMILIES: tuple[str, ...] = tuple(REGISTRY)
