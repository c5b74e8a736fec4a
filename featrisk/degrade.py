"""Realistic, seeded image degradations at severities 1-5.

Fourteen corruption families in the spirit of ImageNet-C (Hendrycks & Dietterich, 2019,
"Benchmarking Neural Network Robustness to Common Corruptions and Perturbations", ICLR),
and thirteen more from :mod:`featrisk.damage` (warps, zoom and glass blur, fog, snow,
speckle, resampling, WebP, posterisation, rain, spatter, shadows, grid masks), used by the
tests, the demo and the benchmark to make images a classifier gets wrong. The table below
covers the first fourteen; the others are tabled in :mod:`featrisk.damage`.
Core featrisk modules never import this module. Written with OpenCV and numpy only.

``apply(image, family, severity, seed=seed)`` takes an HxWx3 uint8 RGB array and returns a
new array of the same shape and dtype; the input is never modified. Severity 0 is the
identity (a copy); 1 is mild and 5 usually breaks an ImageNet classifier. The same image,
family, severity and seed give a bit-identical result, and every random draw of a family
is independent of the severity, so for one seed the damage grows smoothly from 1 to 5.

Parameters per severity
-----------------------
Spatial values are in pixels at a reference short side of 224 px (see below).

==============  ==========================================  =====  =====  =====  =====  =====
family          parameter                                   1      2      3      4      5
==============  ==========================================  =====  =====  =====  =====  =====
gaussian_blur   sigma, px (spatial)                         1      2      3      4      6
gaussian_blur   floor of sigma, px                          0.4    0.6    0.8    1.0    1.3
motion_blur     line kernel length, px (spatial)            6      10     15     21     30
motion_blur     floor of length, px; angle ~ U[0, 180) deg  2      3      4      5      6
gaussian_noise  sigma, 0-255 units (grain)                  20     31     46     66     97
shot_noise      photons at white, Poisson (grain)           60     25     12     5      3
salt_pepper     fraction of pixels set black/white (grain)  0.03   0.06   0.10   0.17   0.27
jpeg            JPEG quality, OpenCV 4:2:0 (not scaled)     80     50     30     15     7
underexposure   out = gain * x ** gamma, x in [0, 1]: gamma 1.2    1.4    1.7    2.0    2.4
underexposure   gain                                        0.8    0.65   0.5    0.35   0.25
overexposure    exposure stops in linear light (sRGB 2.2)   0.5    1.0    1.5    2.0    3.0
contrast        kept fraction of deviation from the mean    0.5    0.35   0.2    0.1    0.05
haze            scattering beta; t = exp(-beta * depth)     0.25   0.5    0.8    1.15   1.6
occlusion       share of the area covered by 1-3 patches    0.05   0.10   0.18   0.28   0.40
pixelate        block size, px (spatial)                    1.67   2      2.5    3.33   4
pixelate        floor of block size, px                     1.2    1.45   1.9    2.5    3.2
color_cast      norm of per-channel log-gain tint           0.1    0.2    0.35   0.5    0.7
vignette        darkening at the corners, 1 - k * r**2      0.2    0.35   0.5    0.65   0.8
==============  ==========================================  =====  =====  =====  =====  =====

Random draws: motion_blur the angle; the noise families the noise; haze a smooth depth
field (a 4x4 random grid, bicubic-upsampled, depth 0.5-1.5) and a grey-white airlight of
level U[0.80, 0.95] with a +-0.03 tint per channel; occlusion the patch count, shapes
(aspect 0.5-2), places and fills (flat colour, smooth random texture with fine noise, or a
flipped and shifted copy of the image itself standing in for another image); color_cast a
zero-sum log-gain direction. gaussian_blur, jpeg, underexposure, overexposure, contrast,
pixelate and vignette are deterministic.

Size scaling
------------
With ``s = min(H, W) / 224``, a *spatial* parameter is ``max(value * s, floor)``: a 448 px
photo gets twice the blur of a 224 px one, so after the usual resize to 224 px a severity
means the same on a 224 px, a 500x375 and a 2000 px image. The floors (close to CIFAR-10-C
at 32 px) keep a visible effect on small images, where ``value * s`` would vanish. *Grain*
families draw their noise on square cells of ``max(1, s)`` px (nearest-neighbour
upsampled), so a resize to 224 px brings back the tabled noise level; below 224 px every
pixel is its own cell. Occlusion covers a share of the area, and the other families act
per pixel, so they need no scaling. JPEG's 8x8 blocks cannot scale and hurt a 32 px image
more than a large one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import cv2
import numpy as np

from featrisk import damage

__all__ = ["CORE_FAMILIES", "FAMILIES", "FAMILIES_23", "REGISTRY", "SEVERITIES", "apply",
           "compose"]

#: The first fourteen families, defined in this module; :mod:`featrisk.damage` adds thirteen.
CORE_FAMILIES: tuple[str, ...] = (
    "gaussian_blur", "motion_blur", "gaussian_noise", "shot_noise", "salt_pepper",
    "jpeg", "underexposure", "overexposure", "contrast", "haze", "occlusion",
    "pixelate", "color_cast", "vignette",
)  # fmt: skip
#: Every family, the new ones last (so seeds drawn by position keep the older rows).
FAMILIES: tuple[str, ...] = CORE_FAMILIES + damage.FAMILIES
#: The 23 families of the outcome sets built before rain, spatter, shadow and grid_mask.
FAMILIES_23: tuple[str, ...] = FAMILIES[:23]
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

REFERENCE_SIDE = 224  # px; short side at which spatial parameters are defined

BLUR_SIGMA = (1.0, 2.0, 3.0, 4.0, 6.0)
BLUR_SIGMA_FLOOR = (0.4, 0.6, 0.8, 1.0, 1.3)
MOTION_LENGTH = (6.0, 10.0, 15.0, 21.0, 30.0)
MOTION_LENGTH_FLOOR = (2.0, 3.0, 4.0, 5.0, 6.0)
NOISE_SIGMA = (20.0, 31.0, 46.0, 66.0, 97.0)
SHOT_PHOTONS = (60.0, 25.0, 12.0, 5.0, 3.0)
SALT_PEPPER_FRACTION = (0.03, 0.06, 0.10, 0.17, 0.27)
JPEG_QUALITY = (80, 50, 30, 15, 7)
UNDER_GAMMA = (1.2, 1.4, 1.7, 2.0, 2.4)
UNDER_GAIN = (0.8, 0.65, 0.5, 0.35, 0.25)
OVER_STOPS = (0.5, 1.0, 1.5, 2.0, 3.0)
CONTRAST_KEEP = (0.5, 0.35, 0.2, 0.1, 0.05)
HAZE_BETA = (0.25, 0.5, 0.8, 1.15, 1.6)
OCCLUSION_AREA = (0.05, 0.10, 0.18, 0.28, 0.40)
PIXEL_BLOCK = (5 / 3, 2.0, 2.5, 10 / 3, 4.0)
PIXEL_BLOCK_FLOOR = (1.2, 1.45, 1.9, 2.5, 3.2)
CAST_STRENGTH = (0.1, 0.2, 0.35, 0.5, 0.7)
VIGNETTE_STRENGTH = (0.2, 0.35, 0.5, 0.65, 0.8)
SRGB_GAMMA = 2.2
OCCLUSION_MAX_PATCHES = 3
OCCLUSION_PLACEMENT_TRIES = 30

DegradeFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------- helpers
def _scale(image: np.ndarray) -> float:
    """Return the short side of ``image`` divided by the 224 px reference side."""
    return min(image.shape[:2]) / REFERENCE_SIDE


def _spatial(image: np.ndarray, values: tuple, floors: tuple, severity: int) -> float:
    """Return a size-scaled spatial parameter in px: ``max(value * scale, floor)``."""
    return max(values[severity - 1] * _scale(image), floors[severity - 1])


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Clip float values to [0, 255] and round them to a uint8 array."""
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _grain_shape(image: np.ndarray) -> tuple[int, int]:
    """Return the (rows, cols) of the noise-cell grid; cells are ``max(1, scale)`` px."""
    height, width = image.shape[:2]
    grain = max(1.0, _scale(image))
    return max(1, round(height / grain)), max(1, round(width / grain))


def _to_cells(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-average ``array`` onto a grid of ``shape`` cells (identity if same size)."""
    if array.shape[:2] == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _from_cells(cells: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Nearest-neighbour upsample a cell grid to the ``(H, W)`` of ``shape``."""
    if cells.shape[:2] == tuple(shape[:2]):
        return cells
    return cv2.resize(cells, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT)


def _line_kernel(length: float, angle: float) -> np.ndarray:
    """Return a normalised anti-aliased line kernel of ``length`` px at ``angle`` rad."""
    size = 2 * int(np.ceil(length / 2)) + 3
    centre = size // 2
    steps = np.linspace(-length / 2, length / 2, max(2, int(np.ceil(4 * length))))
    xs, ys = centre + steps * np.cos(angle), centre + steps * np.sin(angle)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    kernel = np.zeros((size, size), np.float32)
    for dy, dx, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                           (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):  # fmt: skip
        np.add.at(kernel, (y0 + dy, x0 + dx), weight)
    return kernel / kernel.sum()


def _smooth_field(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Return a smooth random HxW float32 field in [0, 1] from a bicubic 4x4 grid."""
    grid = rng.random((4, 4)).astype(np.float32)
    field = cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    span = float(field.max() - field.min())
    return (field - field.min()) / span if span > 0 else np.full_like(field, 0.5)


# --------------------------------------------------------------------------- families
def _gaussian_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Defocus-like Gaussian blur; sigma from ``BLUR_SIGMA``, size-scaled."""
    sigma = _spatial(image, BLUR_SIGMA, BLUR_SIGMA_FLOOR, severity)
    out = cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma,
                           borderType=cv2.BORDER_REFLECT_101)  # fmt: skip
    return _to_uint8(out)


def _motion_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Linear camera-shake blur at a random angle; length size-scaled."""
    angle = rng.uniform(0.0, np.pi)
    length = _spatial(image, MOTION_LENGTH, MOTION_LENGTH_FLOOR, severity)
    kernel = _line_kernel(length, angle)
    out = cv2.filter2D(image.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    return _to_uint8(out)


def _gaussian_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, sigma in 0-255 units, drawn on size-scaled cells."""
    cells = rng.standard_normal((*_grain_shape(image), 3)).astype(np.float32)
    noise = _from_cells(cells * NOISE_SIGMA[severity - 1], image.shape)
    return _to_uint8(image.astype(np.float32) + noise)


def _shot_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson photon noise; fewer photons (noisier) as severity rises."""
    photons = SHOT_PHOTONS[severity - 1]
    clean = _to_cells(image.astype(np.float32) / 255.0, _grain_shape(image))
    noisy = rng.poisson(clean.astype(np.float64) * photons) / photons
    noise = _from_cells(((noisy - clean) * 255.0).astype(np.float32), image.shape)
    return _to_uint8(image.astype(np.float32) + noise)


def _salt_pepper(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Set a growing fraction of pixel cells to pure black or white (all channels)."""
    hit, salt = (_from_cells(rng.random(_grain_shape(image)), image.shape) for _ in range(2))
    out = image.copy()
    corrupt = hit < SALT_PEPPER_FRACTION[severity - 1]
    out[corrupt & (salt < 0.5)] = 0
    out[corrupt & (salt >= 0.5)] = 255
    return out


def _jpeg(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Re-encode as JPEG at falling quality with OpenCV and decode back."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY[severity - 1]])
    if not ok:
        raise RuntimeError(f"OpenCV failed to JPEG-encode an image of shape {image.shape}.")
    return cv2.cvtColor(cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _underexposure(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Darken towards black: ``gain * x ** gamma`` on values in [0, 1]."""
    x = image.astype(np.float32) / 255.0
    return _to_uint8(255.0 * UNDER_GAIN[severity - 1] * x ** UNDER_GAMMA[severity - 1])


def _overexposure(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Brighten by exposure stops in linear light; highlights clip at white."""
    linear = (image.astype(np.float32) / 255.0) ** SRGB_GAMMA * 2.0 ** OVER_STOPS[severity - 1]
    return _to_uint8(255.0 * np.minimum(linear, 1.0) ** (1.0 / SRGB_GAMMA))


def _contrast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Blend towards the image mean, keeping a falling fraction of each deviation."""
    x = image.astype(np.float32)
    mean = float(x.mean())
    return _to_uint8(mean + (x - mean) * CONTRAST_KEEP[severity - 1])


def _haze(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Atmospheric haze ``J t + A (1 - t)`` with a smooth random transmission map."""
    depth = 0.5 + _smooth_field(image.shape, rng)
    airlight = 255.0 * (rng.uniform(0.80, 0.95) + rng.uniform(-0.03, 0.03, 3))
    transmission = np.exp(-HAZE_BETA[severity - 1] * depth)[..., None]
    out = image.astype(np.float32) * transmission + airlight.astype(np.float32) * (1 - transmission)
    return _to_uint8(out)


def _occlusion_fill(image: np.ndarray, kind: int, rng: np.random.Generator) -> np.ndarray:
    """Return a full-size fill: 0 flat colour, 1 random texture, 2 another image."""
    height, width = image.shape[:2]
    if kind == 0:
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.float32), image.shape)
    if kind == 1:
        coarse = rng.random((4, 4, 3)).astype(np.float32) * 255.0
        smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
        return smooth + rng.normal(0.0, 25.0, image.shape).astype(np.float32)
    flipped = image[::-1] if rng.random() < 0.5 else image[::-1, ::-1]
    shift = (int(rng.integers(0, height)), int(rng.integers(0, width)))
    return np.roll(flipped, shift, axis=(0, 1)).astype(np.float32)


def _occlusion_boxes(image: np.ndarray, rng: np.random.Generator) -> list[tuple]:
    """Draw 1-3 patches as (centre y, centre x, aspect h/w, share of the occluded area).

    Centres are placed so the severity-5 patches fit inside and, when possible, apart.
    """
    height, width = image.shape[:2]
    shares = rng.uniform(0.5, 1.5, int(rng.integers(1, OCCLUSION_MAX_PATCHES + 1)))
    boxes: list[tuple] = []
    placed: list[tuple] = []  # (cy, cx, h, w) at severity 5
    for share in shares / shares.sum():
        aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        h5, w5 = _patch_size(height, width, OCCLUSION_AREA[-1] * share, aspect)
        for _ in range(OCCLUSION_PLACEMENT_TRIES):
            cy = rng.uniform(h5 / 2, height - h5 / 2)
            cx = rng.uniform(w5 / 2, width - w5 / 2)
            if all(abs(cy - py) * 2 >= h5 + ph or abs(cx - px) * 2 >= w5 + pw
                   for py, px, ph, pw in placed):  # fmt: skip
                break
        placed.append((cy, cx, h5, w5))
        boxes.append((cy, cx, aspect, float(share)))
    return boxes


def _patch_size(height: int, width: int, share: float, aspect: float) -> tuple[float, float]:
    """Return (h, w) in px of a patch covering ``share`` of the image at ``aspect`` h/w."""
    area = share * height * width
    h = min(float(height), np.sqrt(area * aspect))
    return h, min(float(width), area / h)


def _occlusion(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Cover a growing share of the area with 1-3 patches of random fill.

    All draws are made for the severity-5 layout; lower severities shrink each patch
    about its centre, so the covered pixels of severity k are a subset of those of k+1.
    """
    height, width = image.shape[:2]
    out = image.astype(np.float32)
    for cy, cx, aspect, share in _occlusion_boxes(image, rng):
        fill = _occlusion_fill(image, int(rng.integers(0, 3)), rng)
        h, w = _patch_size(height, width, OCCLUSION_AREA[severity - 1] * share, aspect)
        top, bottom = round(cy - h / 2), max(round(cy + h / 2), round(cy - h / 2) + 1)
        left, right = round(cx - w / 2), max(round(cx + w / 2), round(cx - w / 2) + 1)
        top, left = max(0, min(top, height - 1)), max(0, min(left, width - 1))
        out[top:bottom, left:right] = fill[top:bottom, left:right]
    return _to_uint8(out)


def _pixelate(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Area-downscale by a size-scaled block size, then nearest-upscale back.

    Upscaling uses ``INTER_NEAREST_EXACT`` (pixel-centred), not ``INTER_NEAREST``, whose
    half-pixel shift adds misalignment error that is not monotone in the block size.
    """
    height, width = image.shape[:2]
    block = _spatial(image, PIXEL_BLOCK, PIXEL_BLOCK_FLOOR, severity)
    small_size = (max(1, round(width / block)), max(1, round(height / block)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)


def _color_cast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Multiply channels by a random zero-sum log-gain tint of growing strength."""
    direction = rng.standard_normal(3)
    direction -= direction.mean()
    direction /= max(float(np.linalg.norm(direction)), 1e-12)
    gains = np.exp(CAST_STRENGTH[severity - 1] * direction).astype(np.float32)
    return _to_uint8(image.astype(np.float32) * gains)


def _vignette(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Radial darkening ``1 - k r**2``, with r = 0 at the centre and 1 at the corners."""
    height, width = image.shape[:2]
    ys = (np.arange(height, dtype=np.float32) - (height - 1) / 2) / max(height / 2, 1)
    xs = (np.arange(width, dtype=np.float32) - (width - 1) / 2) / max(width / 2, 1)
    r2 = (ys[:, None] ** 2 + xs[None, :] ** 2) / 2.0
    gain = 1.0 - VIGNETTE_STRENGTH[severity - 1] * r2
    return _to_uint8(image.astype(np.float32) * gain[..., None])


REGISTRY: Mapping[str, DegradeFn] = MappingProxyType({
    "gaussian_blur": _gaussian_blur, "motion_blur": _motion_blur,
    "gaussian_noise": _gaussian_noise, "shot_noise": _shot_noise,
    "salt_pepper": _salt_pepper, "jpeg": _jpeg, "underexposure": _underexposure,
    "overexposure": _overexposure, "contrast": _contrast, "haze": _haze,
    "occlusion": _occlusion, "pixelate": _pixelate, "color_cast": _color_cast,
    "vignette": _vignette, **damage.REGISTRY,
})  # fmt: skip
"""Family name -> ``(image, severity, rng) -> image`` function, in ``FAMILIES`` order."""


# --------------------------------------------------------------------------- public API
def _check_image(image: object) -> None:
    """Raise ValueError unless ``image`` is a non-empty HxWx3 uint8 array."""
    if (not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3
            or image.dtype != np.uint8 or image.size == 0):  # fmt: skip
        received = (f"shape {image.shape} and dtype {image.dtype}"
                    if isinstance(image, np.ndarray) else type(image).__name__)  # fmt: skip
        raise ValueError(
            f"image must be a non-empty HxWx3 uint8 RGB numpy array; received {received}. "
            "Convert with np.asarray(...) and drop any alpha channel first."
        )


def apply(image: np.ndarray, family: str, severity: int, *, seed: int = 0) -> np.ndarray:
    """Degrade an RGB image with one corruption family at one severity.

    Parameters
    ----------
    image : numpy.ndarray
        HxWx3 uint8 RGB image, values 0-255. Not modified.
    family : str
        One of ``FAMILIES``; see the module docstring for what each does.
    severity : int
        0 (identity, returns a copy) or 1-5, from mild to usually classifier-breaking.
    seed : int, default 0
        Seed of the local ``numpy.random.Generator`` used for the random draws; the same
        inputs and seed give a bit-identical result.

    Returns
    -------
    numpy.ndarray
        New HxWx3 uint8 RGB array of the same shape as ``image``.

    Raises
    ------
    ValueError
        If ``family`` or ``severity`` is not an allowed value, or ``image`` is not a
        non-empty HxWx3 uint8 array.
    """
    if not isinstance(family, str) or family not in REGISTRY:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}; received {family!r}.")
    if (isinstance(severity, bool) or not isinstance(severity, (int, np.integer))
            or severity not in (0, *SEVERITIES)):  # fmt: skip
        raise ValueError(
            f"severity must be an integer in 0-5 (0 = no degradation, 1 mild ... 5 severe); "
            f"received {severity!r}."
        )
    _check_image(image)
    if severity == 0:
        return image.copy()
    return REGISTRY[family](image, int(severity), np.random.default_rng(seed))


def compose(image: np.ndarray, damages: list[tuple[str, int]], *, seed: int = 0) -> np.ndarray:
    """Degrade an RGB image with several families in turn, as real damage stacks up.

    ``compose(image, [("haze", 2), ("jpeg", 4)], seed=s)`` applies haze at severity 2, then
    JPEG at 4 to the result; step i draws with seed ``seed + i``, so a one-step composition
    equals :func:`apply` with the same seed. Order matters (noise then blur is not blur then
    noise). Arguments are checked as in :func:`apply`; an empty list returns a copy.
    """
    if not isinstance(damages, list | tuple):
        raise ValueError(f"damages must be a list of (family, severity) pairs; received "
                         f"{type(damages).__name__}")
    _check_image(image)
    out = image.copy()
    for i, step in enumerate(damages):
        if not isinstance(step, tuple | list) or len(step) != 2:
            raise ValueError(f"damages[{i}] must be a (family, severity) pair; received {step!r}")
        out = apply(out, step[0], step[1], seed=seed + i)
    return out
