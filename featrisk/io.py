"""Read image files: the only code in featrisk that touches image bytes.

One call of :func:`read_image` reads the file once, parses its header with Pillow (size,
format, EXIF orientation, JPEG quantisation tables and chroma subsampling, without decoding
any pixels), refuses files above the pixel limit before decoding them, then decodes the
pixels once with OpenCV and normalises them to 8-bit RGB:

- grey and grey+alpha become three equal channels; alpha is dropped (as ``PIL.Image.convert
  ("RGB")`` does, which is what most classifier pipelines see) and reported as a fact;
- 16-bit integer images are scaled to 8 bits (``v * 255 / 65535``, rounded); float images are
  clipped to [0, 1] and scaled;
- palette images are expanded by the decoder; CMYK JPEGs are converted by the decoder;
- the EXIF orientation tag (1-8) is applied, so the array is upright as a viewer shows it.

Formats OpenCV cannot decode (for example animated GIF in some builds) fall back to one
decode by Pillow (first frame).
"""

from __future__ import annotations

import io as _io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, JpegImagePlugin

from featrisk.errors import DecodeError

__all__ = ["MAX_PIXELS", "Decoded", "FileFacts", "read_image"]

#: Default limit on width x height (pixels) above which a file is refused before decoding.
MAX_PIXELS = 100_000_000

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

#: Chroma resolution relative to luma for Pillow's sampling codes (-1: not YCbCr).
_SUBSAMPLING_SHARE = {-1: 1.0, 0: 1.0, 1: 0.5, 2: 0.25}


@dataclass(frozen=True)
class FileFacts:
    """What the file header and the decoder tell about one image.

    Attributes
    ----------
    path : str
        The path as given.
    file_bytes : int
        Size of the file in bytes.
    format : str
        Container format from the header, upper case (``"JPEG"``, ``"PNG"``, ``"WEBP"``, ...).
    width, height : int
        Size in pixels after the EXIF orientation is applied.
    channels : int
        Channels stored in the file (1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha).
    bit_depth : int
        Bits per channel of the stored samples (8, 16 or 32).
    has_alpha : bool
        Whether the file stores transparency.
    jpeg_quality : float
        IJG quality (1-100) whose luminance table is nearest to the file's; 100 for lossless
        formats.
    chroma_share : float
        Chroma resolution relative to luma: 1.0 (4:4:4 or not YCbCr), 0.5 (4:2:2),
        0.25 (4:2:0).
    orientation : int
        EXIF orientation tag that was applied (1 = none).
    """

    path: str
    file_bytes: int
    format: str
    width: int
    height: int
    channels: int
    bit_depth: int
    has_alpha: bool
    jpeg_quality: float
    chroma_share: float
    orientation: int


@dataclass(frozen=True)
class Decoded:
    """A decoded image: upright 8-bit RGB pixels plus the facts about its file."""

    rgb: np.ndarray
    facts: FileFacts


def _describe_start(data: bytes) -> str:
    """Say in words what a file that is not an image starts with."""
    head = data[:64].lstrip()
    low = head.lower()
    if low.startswith(b"<svg") or (low.startswith(b"<?xml") and b"<svg" in data[:2048].lower()):
        return "unsupported format: SVG"
    if low.startswith(b"%pdf"):
        return "unsupported format: PDF"
    text = head[:5].decode("latin-1")
    printable = "".join(c if c.isprintable() else "." for c in text)
    return f"not an image: file starts with {printable!r}"


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
    luma = np.sort(np.asarray(tables[0], dtype=np.float64))
    ref = np.sort(_IJG_TABLES, axis=1)
    return float(np.argmin(np.abs(ref - luma).mean(axis=1)) + 1)


def _check_file(path: Path) -> bytes:
    """Read the whole file, raising DecodeError with a reason a user can act on."""
    if not path.exists():
        raise DecodeError(f"{path}: file not found")
    if path.is_dir():
        raise DecodeError(f"{path}: is a directory, not an image file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise DecodeError(f"{path}: empty file (0 bytes)")
    return data


def _header(path: Path, data: bytes, max_pixels: int) -> tuple[Image.Image | None, str]:
    """Parse the header with Pillow without decoding pixels; enforce the pixel limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(_io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"{path}: image is above the decompression-bomb limit ({exc})") from exc
    except Exception:  # noqa: BLE001 - Pillow raises many types on foreign bytes
        return None, ""
    w, h = im.size
    if w * h > max_pixels:
        raise DecodeError(
            f"{path}: image is {w}x{h} = {w * h / 1e6:.3g} MP, above the "
            f"{max_pixels / 1e6:g} MP limit; raise max_pixels to process it"
        )
    if w < 1 or h < 1:
        raise DecodeError(f"{path}: image has no pixels ({w}x{h})")
    return im, (im.format or "").upper()


def _jpeg_truncated(data: bytes) -> bool:
    """True when a JPEG stream lacks its end-of-image marker (an interrupted upload)."""
    return b"\xff\xd9" not in data[-64:]


def _to_rgb8(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Convert an OpenCV-decoded array (BGR order) to 8-bit RGB; return it and channel count."""
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if arr.dtype == np.uint16:
        arr = ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif arr.dtype.kind == "f":
        arr = np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)
        arr = np.rint(arr * 255.0).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = cv2.normalize(arr, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if arr.ndim == 2:
        rgb = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    elif channels == 1:
        rgb = cv2.cvtColor(arr[:, :, 0], cv2.COLOR_GRAY2RGB)
    elif channels == 2:
        rgb = cv2.cvtColor(np.ascontiguousarray(arr[:, :, 0]), cv2.COLOR_GRAY2RGB)
    elif channels == 4:
        rgb = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb), channels


def _pillow_decode(im: Image.Image) -> tuple[np.ndarray, int, int]:
    """Decode the first frame with Pillow (fallback); return RGB uint8, channels, bit depth."""
    im.seek(0)
    bands = len(im.getbands())
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb), bands, 8


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation tag (1-8) so the image is upright."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: np.rot90(a, k=1)[::-1, ::-1],
        8: lambda a: np.rot90(a, k=1),
    }
    op = ops.get(orientation)
    return rgb if op is None else np.ascontiguousarray(op(rgb))


def _header_facts(im: Image.Image | None, fmt: str) -> tuple[int, bool, float, float, int]:
    """Facts that only the header knows: bit depth, alpha, JPEG quality, chroma, orientation."""
    if im is None:
        return 8, False, 100.0, 1.0, 1
    mode = im.mode
    bit_depth = 16 if ("16" in mode or mode == "I") else (32 if mode == "F" else 8)
    has_alpha = "A" in mode or "transparency" in im.info
    quality, chroma = 100.0, 1.0
    if fmt in ("JPEG", "MPO"):
        quality = jpeg_quality_from_tables(getattr(im, "quantization", None))
        chroma = _SUBSAMPLING_SHARE.get(JpegImagePlugin.get_sampling(im), 1.0)
    try:
        orientation = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
        orientation = 1
    return bit_depth, has_alpha, quality, chroma, orientation if 1 <= orientation <= 8 else 1


def read_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Read and decode one image file to upright 8-bit RGB.

    Parameters
    ----------
    path : str or path-like
        The image file. Any extension (or none); the format is read from the bytes.
    max_pixels : int, default 100_000_000
        Files whose header declares more pixels than this are refused before any pixel
        is decoded, so a decompression bomb cannot exhaust memory.

    Returns
    -------
    Decoded
        ``rgb``: HxWx3 uint8 array in RGB order; ``facts``: :class:`FileFacts`.

    Raises
    ------
    DecodeError
        With a message that starts with the path and says why: file not found, is a
        directory, empty file, not an image (and what it starts with), unsupported format,
        truncated JPEG, above the pixel limit, or undecodable.
    """
    p = Path(path)
    data = _check_file(p)
    im, fmt = _header(p, data, max_pixels)
    if fmt in ("JPEG", "MPO") and _jpeg_truncated(data):
        raise DecodeError(
            f"{p}: truncated JPEG: the file ends before its end-of-image marker "
            "(an interrupted download or upload); re-fetch the file"
        )
    bit_depth, has_alpha, quality, chroma, orientation = _header_facts(im, fmt)
    arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is not None and arr.size > 0:
        rgb, channels = _to_rgb8(arr)
        bit_depth = max(bit_depth, 8 * arr.dtype.itemsize)
        has_alpha = has_alpha or channels in (2, 4)
    elif im is not None:
        try:
            rgb, channels, _ = _pillow_decode(im)
        except Exception as exc:  # noqa: BLE001
            raise DecodeError(f"{p}: cannot decode {fmt or 'image'} data ({exc})") from exc
    else:
        raise DecodeError(f"{p}: {_describe_start(data)}")
    rgb = _orient(rgb, orientation)
    h, w = rgb.shape[:2]
    facts = FileFacts(
        path=str(path),
        file_bytes=len(data),
        format=fmt or "UNKNOWN",
        width=w,
        height=h,
        channels=channels,
        bit_depth=bit_depth,
        has_alpha=bool(has_alpha),
        jpeg_quality=quality,
        chroma_share=chroma,
        orientation=orientation,
    )
    return Decoded(rgb=rgb, facts=facts)
