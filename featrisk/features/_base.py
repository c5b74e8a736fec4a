"""The image context every feature family reads, and the column documentation record.

Working resolution
------------------
Most families work on one *working image*: the decoded image resized with area averaging so
that its short side is at most ``WORK_SHORT_SIDE`` (224 px, the input size of most ImageNet
classifiers) and its long side at most ``WORK_LONG_SIDE`` (448 px). Images already smaller
are never upscaled: upscaling adds interpolation blur and no information, and a 32 px
CIFAR image is judged at the 32 px its classifier sees. Families that need native detail
(native Laplacian, noise, JPEG blockiness) say so in their column documentation.

In the fast profile (:mod:`featrisk.profiles`) the decoder hands over an image already shrunk
to fit 40 x 400 px, so the working image *is* the decoded image and the native-resolution
measures read it too; ``ctx.facts`` still gives the file's own size.

Derived views (grey, gradients, HSV, Lab, local contrast) are computed once, on first use,
and shared by every family.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from featrisk.io import FileFacts, fit_size

#: Short side of the working image, pixels (images are never upscaled to it).
WORK_SHORT_SIDE = 224
#: Long side cap of the working image, pixels.
WORK_LONG_SIDE = 448
#: Largest side of the native central crop read by blockiness and pixel-repeat measures
#: (a multiple of 8, aligned to the JPEG block grid).
NATIVE_CROP = 1024
#: Side of the square local-contrast window, pixels of the working image.
LOCAL_WINDOW = 7


@dataclass(frozen=True)
class Column:
    """Documentation of one feature column: the single source of truth for reports.

    Attributes
    ----------
    name : str
        Column name, ``<family>_<quantity>[_<stat>]``.
    unit : str
        Unit of the value.
    range : str
        Range of values on valid images.
    worse : str
        Which direction tends to hurt a classifier: ``"lower"``, ``"higher"``, ``"both"``
        (extremes), or ``"none"`` (descriptive only).
    doc : str
        What the value measures, and how it behaves on small and large images.
    low, high : str
        What a person would see in an image whose value is lower (higher) than usual, in a
        few plain lower-case words that do not repeat the column name, e.g. ``"darker than
        usual"``. Risk reasons (:mod:`featrisk.wording`) read them in place of the column
        name; keyword-only, so a declaration shows which phrase is which.
    """

    name: str
    unit: str
    range: str
    worse: str
    doc: str
    low: str = field(kw_only=True)
    high: str = field(kw_only=True)


class view:  # noqa: N801 - used as a decorator, like functools.cached_property
    """A derived view computed on first access and stored on the instance.

    ``functools.cached_property`` without its lock: Python 3.11 takes an ``RLock`` on every
    first access (about 3.6 µs each under cProfile, 12 per image). An :class:`ImageContext`
    belongs to one thread, so the lock buys nothing; without it, extracting 500 CIFAR files
    went from a median of about 1,083 to 1,100 images/s. Once computed, the value sits in
    the instance ``__dict__`` and attribute lookup no longer reaches this descriptor.
    """

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


def work_size(width: int, height: int) -> tuple[int, int]:
    """Return the working-image size (width, height) for a native size, in pixels."""
    return fit_size(width, height, WORK_SHORT_SIDE, WORK_LONG_SIDE)


class ImageContext:
    """One decoded image and the views derived from it, computed lazily and once.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The decoded image at native resolution, RGB order.
    facts : FileFacts
        What the file header said (format, bytes, JPEG quality, ...).
    """

    def __init__(self, rgb: np.ndarray, facts: FileFacts) -> None:
        self.native_rgb = rgb
        self.facts = facts
        self._pyramid: list[np.ndarray] = []

    def halvings(self, n: int, *, min_side: int) -> list[np.ndarray]:
        """Up to ``n`` successive ``cv2.pyrDown`` halvings of :attr:`grey_f`, float32.

        Each level is computed once and shared by every family. The list stops before
        halving a level whose short side is below ``min_side`` pixels, so it can be shorter
        than ``n`` (empty for an image already that small).
        """
        out: list[np.ndarray] = []
        im = self.grey_f
        for i in range(n):
            if min(im.shape) < min_side:
                break
            if i == len(self._pyramid):
                self._pyramid.append(cv2.pyrDown(im))
            im = self._pyramid[i]
            out.append(im)
        return out

    @view
    def rgb(self) -> np.ndarray:
        """Working image, uint8 RGB, short side <= 224 px (area-averaged, never upscaled)."""
        h, w = self.native_rgb.shape[:2]
        size = work_size(w, h)
        if size == (w, h):
            return self.native_rgb
        return cv2.resize(self.native_rgb, size, interpolation=cv2.INTER_AREA)

    @view
    def native_grey(self) -> np.ndarray:
        """Native-resolution luminance, uint8 (ITU-R BT.601 weights, as OpenCV)."""
        if self.rgb is self.native_rgb:
            return self.grey
        return cv2.cvtColor(self.native_rgb, cv2.COLOR_RGB2GRAY)

    @view
    def grey(self) -> np.ndarray:
        """Working-image luminance, uint8 0-255."""
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)

    @view
    def grey_f(self) -> np.ndarray:
        """Working-image luminance, float32 0-255."""
        return self.grey.astype(np.float32)

    @view
    def grey_hist(self) -> np.ndarray:
        """256-bin luminance histogram of the working image, as shares summing to 1."""
        hist = cv2.calcHist([self.grey], [0], None, [256], [0, 256]).ravel().astype(np.float64)
        return hist / hist.sum()

    @view
    def gradients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sobel 3x3 gradients (gx, gy) and magnitude of the working luminance, float32."""
        gx = cv2.Sobel(self.grey_f, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(self.grey_f, cv2.CV_32F, 0, 1, ksize=3)
        # numpy, not cv2.magnitude: OpenCV's SIMD path rounds by memory alignment (1 ulp)
        return gx, gy, np.sqrt(gx * gx + gy * gy)

    @view
    def laplacian(self) -> np.ndarray:
        """4-neighbour Laplacian of the working luminance, float32 grey levels."""
        return cv2.Laplacian(self.grey_f, cv2.CV_32F, ksize=1)

    @view
    def local_std(self) -> np.ndarray:
        """Local standard deviation of luminance in a 7x7 window, float32 grey levels."""
        k = (LOCAL_WINDOW, LOCAL_WINDOW)
        mean = cv2.blur(self.grey_f, k)
        sq = cv2.blur(self.grey_f * self.grey_f, k)
        return np.sqrt(np.maximum(sq - mean * mean, 0.0))

    @view
    def canny(self) -> np.ndarray:
        """Canny edge map of the working luminance (uint8 0/255; thresholds 50/150, L2)."""
        return cv2.Canny(self.grey, 50, 150, L2gradient=True)

    @view
    def hsv(self) -> np.ndarray:
        """Working image in OpenCV HSV, uint8 (H 0-179, S and V 0-255)."""
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2HSV)

    @view
    def lab(self) -> np.ndarray:
        """Working image in CIE L*a*b*, OpenCV 8-bit encoding (uint8).

        L is scaled to 0-255 (L* x 255/100) and a*, b* are offset by 128, so a* = a - 128.
        The 8-bit conversion is about three times faster than the float one; it rounds a*
        and b* to whole units.
        """
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2Lab)

    @view
    def is_grey(self) -> bool:
        """True when all three channels are identical (a grey image stored as colour)."""
        r, g, b = (self.rgb[:, :, i] for i in range(3))
        return bool(np.array_equal(r, g) and np.array_equal(g, b))


def grid_means(values: np.ndarray, cells: int) -> np.ndarray:
    """Mean of ``values`` over a cells x cells grid (area-weighted), float64.

    The grid of ``cv2.resize(..., INTER_AREA)``: cell edges at fractional pixel positions,
    pixels cut by an edge counted by the share inside the cell. Computed as two small
    matrix products in float64 (:func:`area_weights`): 24-35 µs against 200-220 µs for the
    resize on a 224 x 299 map, and exact where OpenCV rounds in float32 (the two agree to
    within about 1e-6 relative).

    Parameters
    ----------
    values : ndarray, shape (H, W)
        Any per-pixel map.
    cells : int
        Grid cells per side; images smaller than the grid are sampled per pixel.

    Returns
    -------
    ndarray, shape (min(cells, H), min(cells, W))
    """
    h, w = values.shape
    return area_weights(h, cells) @ values.astype(np.float64) @ area_weights(w, cells).T


@functools.lru_cache(maxsize=512)
def area_weights(n: int, cells: int) -> np.ndarray:
    """Weights that average ``n`` pixels into ``min(cells, n)`` equal cells, shape (m, n).

    Row j holds the share of each pixel i inside cell j (edges at j * n / m), divided by
    the cell width, so each row sums to 1. Read-only (cached).
    """
    m = min(cells, n)
    width = n / m
    edges = np.arange(m + 1) * width
    pixel = np.arange(n)[None, :]
    inside = np.minimum(edges[1:, None], pixel + 1) - np.maximum(edges[:-1, None], pixel)
    weights = np.clip(inside, 0.0, None) / width
    weights.setflags(write=False)
    return weights


def percentiles_from_hist(hist: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Percentiles (0-255 grey levels) of a 256-bin share histogram, lowest bin reaching q."""
    cdf = np.cumsum(hist)
    return np.searchsorted(cdf, np.asarray(qs, dtype=np.float64) / 100.0 - 1e-12).astype(np.float64)


#: Arrays at least this long are searched through a sampled bracket in :func:`quantile`.
_BRACKET_MIN = 4096


def quantile(values: np.ndarray, q: float) -> float:
    """The q-quantile (lower, no interpolation): the k-th smallest value, k = int(q * n).

    Exactly ``np.partition(flat, k)[k]``, found faster on large arrays: a strided 1-in-16
    sample brackets the answer, one pass counts the values below the bracket, and only the
    values inside it are partially sorted. If the bracket misses (it rarely does), the whole
    array is partitioned.
    """
    flat = values.ravel()
    n = len(flat)
    k = min(n - 1, int(q * n))
    if n < _BRACKET_MIN:
        return float(np.partition(flat, k)[k])
    sample = flat[::16]
    m = len(sample)
    centre, margin = min(m - 1, int(q * m)), 3 * int(np.sqrt(m)) + 8
    lo_i, hi_i = max(0, centre - margin), min(m - 1, centre + margin)
    part = np.partition(sample, (lo_i, hi_i))
    lo, hi = part[lo_i], part[hi_i]
    if values.dtype == np.float32 and values.ndim == 2 and values.flags.c_contiguous:
        # the same counts and selection through OpenCV's vectorised comparisons
        below = cv2.countNonZero(cv2.compare(values, float(lo), cv2.CMP_LT))
        inside = values[cv2.inRange(values, float(lo), float(hi)).view(bool)]
    else:
        below = int(np.count_nonzero(flat < lo))
        inside = flat[(flat >= lo) & (flat <= hi)]
    if below <= k < below + len(inside):
        return float(np.partition(inside, k - below)[k - below])
    return float(np.partition(flat, k)[k])


def quantile_of_whole(values: np.ndarray, q: float, bound: int) -> float:
    """:func:`quantile` of an array holding only whole numbers in [0, bound), bound <= 65536.

    Parameters
    ----------
    values : ndarray
        Whole-number values in [0, bound), e.g. the absolute Sobel responses of a uint8
        image (at most 4 x 255), stored as float32.
    q : float
        Quantile in [0, 1].
    bound : int
        Exclusive upper limit of the values; one histogram bin per whole number.

    Returns
    -------
    float
        The k-th smallest value, k = int(q * n): exactly ``quantile(values, q)``, read from a
        16-bit histogram (one pass) instead of partial sorts, about four times faster on a
        224 x 299 image.
    """
    whole = values.astype(np.uint16)
    k = min(whole.size - 1, int(q * whole.size))
    hist = cv2.calcHist([whole], [0], None, [bound], [0, bound]).ravel()
    return float(np.searchsorted(np.cumsum(hist, dtype=np.float64), k + 1))


def percentile_linear(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) without its per-call overhead.

    Same arithmetic as NumPy's default method, so the result is identical; meant for small
    arrays such as tile grids.
    """
    s = np.sort(values, axis=None).astype(np.float64)
    pos = q / 100.0 * (len(s) - 1)
    i = min(int(np.floor(pos)), len(s) - 1)
    j = min(i + 1, len(s) - 1)
    t = pos - i
    a, b = s[i], s[j]
    diff = b - a
    return float(b - diff * (1.0 - t) if t >= 0.5 else a + diff * t)


def median_small(values: np.ndarray) -> float:
    """``np.median`` of a small array without its per-call overhead (identical result)."""
    s = np.sort(values, axis=None).astype(np.float64)
    h = len(s) // 2
    return float(s[h]) if len(s) % 2 else float((s[h - 1] + s[h]) / 2.0)


def central_crop(grey: np.ndarray) -> np.ndarray:
    """Central crop of at most NATIVE_CROP x NATIVE_CROP px, offsets aligned to the 8x8 grid."""
    h, w = grey.shape
    top = max(0, (h - NATIVE_CROP) // 2) // 8 * 8
    left = max(0, (w - NATIVE_CROP) // 2) // 8 * 8
    return grey[top : top + NATIVE_CROP, left : left + NATIVE_CROP]
