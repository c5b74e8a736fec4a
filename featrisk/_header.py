"""Helpers of :mod:`featrisk.io`: what an image file's header tells, before any pixel is decoded.

Pillow parses the header (only the plugins of :data:`PILLOW_FORMATS` may claim a file); the
size and shape limits are checked on it, and the facts that only the header knows are read
from it: bit depth, alpha, JPEG quality and chroma subsampling, EXIF orientation. Nothing
here reads a file or decodes pixels.
"""

from __future__ import annotations

import functools
import io as _io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, JpegImagePlugin

from featrisk import _decode
from featrisk.errors import DecodeError

#: Smallest side (pixels) an image may have: a 1-pixel line has no neighbourhood to measure.
MIN_SIDE = 2
#: Largest long-side / short-side ratio: at the features' 448 px working long side a thinner
#: strip would be under 2 px across (448 / 200 = 2.24).
MAX_SIDE_RATIO = 200
#: Pillow plugins allowed to claim a file (each recognises its format by a magic number).
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "PPM", "JPEG2000", "AVIF", "SUN")

#: IJG (libjpeg) base luminance quantisation table at quality 50, in natural order.
_IJG_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)


def _ijg_tables() -> np.ndarray:
    """Return the IJG luminance tables for qualities 1..100, shape (100, 64)."""
    q = np.arange(1, 101, dtype=np.float64)[:, None]
    scale = np.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
    return np.clip(np.floor((_IJG_LUMA * scale + 50.0) / 100.0), 1, 255)


_IJG_TABLES = _ijg_tables()
#: The same tables with each row sorted: what :func:`jpeg_quality_from_tables` compares with.
_IJG_SORTED = np.sort(_IJG_TABLES, axis=1)

#: Chroma resolution relative to luma for Pillow's sampling codes (-1: not YCbCr).
_SUBSAMPLING_SHARE = {-1: 1.0, 0: 1.0, 1: 0.5, 2: 0.25}


def jpeg_quality_from_tables(tables: dict[int, list[int]] | None) -> float:
    """Estimate the IJG quality (1-100) from a JPEG file's quantisation tables.

    Parameters
    ----------
    tables : dict of int to list of int or None
        Pillow's ``Image.quantization``; table 0 is luminance, in zig-zag or natural order
        (the comparison uses the sorted values, so the order does not matter).

    Returns
    -------
    float
        The quality whose IJG luminance table is closest in mean absolute difference;
        100.0 when no table is given (a lossless format). Lower means stronger compression.
    """
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return 100.0
    return _quality_of_table(tuple(tables[0]))


@functools.lru_cache(maxsize=1024)
def _quality_of_table(table: tuple[int, ...]) -> float:
    """IJG quality of one 64-value luminance table (cached: encoders reuse their tables)."""
    luma = np.sort(np.asarray(table, dtype=np.float64))
    return float(np.argmin(np.abs(_IJG_SORTED - luma).sum(axis=1)) + 1)


def open_unchecked(data: bytes) -> Image.Image | None:
    """Parse a header with the allowed plugins, bypassing Pillow's own bomb limit."""
    Image.init()
    for fmt in PILLOW_FORMATS:
        factory, accept = Image.OPEN.get(fmt, (None, None))
        verdict = accept(data[:16]) if accept is not None else factory is not None
        if factory is None or not verdict or isinstance(verdict, str):
            continue
        try:
            return factory(_io.BytesIO(data), "")
        except Exception:  # noqa: BLE001, S112 - try the next plugin as Image.open does
            continue
    return None


def megapixels(pixels: int) -> str:
    """Pixels as megapixels for a message: 400, 144, 4295, 0.001."""
    mp = pixels / 1e6
    return f"{mp:.0f}" if mp >= 10 else f"{mp:.3g}"


def parse_header(path: str | Path, data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Parse the header with Pillow without decoding pixels; enforce size and shape limits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im: Image.Image | None = Image.open(_io.BytesIO(data), formats=PILLOW_FORMATS)
        except Image.DecompressionBombError:
            im = open_unchecked(data)  # max_pixels, checked below, is featrisk's one limit
        except Exception:  # noqa: BLE001 - Pillow raises many types on foreign bytes
            im = None
    if im is None:
        raise DecodeError(f"{path}: {_decode.describe_unparsable(data)}")
    check_size(path, *im.size, max_pixels)
    return im, (im.format or "").upper()


def check_size(path: str | Path, w: int, h: int, max_pixels: int) -> None:
    """Refuse a ``w`` x ``h`` image above ``max_pixels``, under :data:`MIN_SIDE` or too thin."""
    if w * h > max_pixels:
        raise DecodeError(
            f"{path}: image is {w}x{h} = {megapixels(w * h)} MP, above the "
            f"{megapixels(max_pixels)} MP limit; raise max_pixels to process it"
        )
    if min(w, h) < MIN_SIDE:
        raise DecodeError(
            f"{path}: image is {w}x{h} px, too small to measure; need at least "
            f"{MIN_SIDE}x{MIN_SIDE} px"
        )
    if max(w, h) > MAX_SIDE_RATIO * min(w, h):
        raise DecodeError(
            f"{path}: image is {w}x{h} px, a strip too thin to measure (side ratio "
            f"{max(w, h) / min(w, h):.0f}:1, above {MAX_SIDE_RATIO}:1); crop or pad it"
        )


def header_facts(im: Image.Image, fmt: str) -> tuple[int, bool, float, float, int]:
    """Facts that only the header knows: bit depth, alpha, JPEG quality, chroma, orientation."""
    mode = im.mode
    bit_depth = 16 if ("16" in mode or mode == "I") else (32 if mode == "F" else 8)
    has_alpha = "A" in mode or "transparency" in im.info
    quality, chroma = 100.0, 1.0
    if fmt in ("JPEG", "MPO"):
        quality = jpeg_quality_from_tables(getattr(im, "quantization", None))
        chroma = _SUBSAMPLING_SHARE.get(JpegImagePlugin.get_sampling(im), 1.0)
    if fmt in ("JPEG", "MPO") and "exif" not in im.info:
        # a JPEG's EXIF block (APP1) precedes its scans, so the header parse has seen it
        return bit_depth, has_alpha, quality, chroma, 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
        orientation = 1
    return bit_depth, has_alpha, quality, chroma, orientation if 1 <= orientation <= 8 else 1
