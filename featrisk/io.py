"""Read image files: the only code in featrisk that touches image bytes.

One call of :func:`read_image` checks the file (a regular file no larger than ``max_bytes``),
reads it once, parses its header with Pillow (size, format, EXIF orientation, JPEG
quantisation tables and chroma subsampling, without decoding any pixels), refuses it if the
header declares more than ``max_pixels`` pixels or a shape too small to measure, then decodes
the pixels once with OpenCV and normalises them to upright 8-bit RGB:

- grey and grey+alpha become three equal channels; alpha is dropped (as ``PIL.Image.convert
  ("RGB")`` does, which is what most classifier pipelines see) and reported as a fact;
- 16-bit integer images are scaled to 8 bits (``v * 255 / 65535``, rounded); float images are
  clipped to [0, 1] and scaled;
- palette images are expanded by the decoder; CMYK JPEGs are converted by the decoder;
- animated GIF, WebP and PNG give their first frame; multi-page TIFF its first page;
- the EXIF orientation tag (1-8) is applied, so the array is upright as a viewer shows it.

A file OpenCV cannot decode falls back to one decode by Pillow (first frame). The header work
(limits, facts) is in :mod:`featrisk._header`, the decoding helpers in :mod:`featrisk._decode`.

Formats
-------
JPEG (baseline, progressive, CMYK, MPO), PNG (1-16 bit, grey, grey+alpha, RGB, RGBA,
palette, APNG), GIF, WebP, BMP, TIFF (8/16-bit, float), PNM, JPEG 2000, AVIF and Sun
raster, recognised from the bytes whatever the extension. Only these Pillow plugins may
claim a file, so random bytes are never read as a format without a magic number (TGA), and
no plugin that runs an external program (EPS via Ghostscript) is ever reached. Anything else
is refused by name ("unsupported format: SVG", "not an image: file starts with '<html'").

Limits, all checked before any pixel is decoded
-----------------------------------------------
- ``max_bytes`` (:data:`MAX_BYTES`, 512 MB): larger files are refused from their size on
  disk, before they are read; non-regular files (folders, pipes, devices) are refused too.
- ``max_pixels`` (:data:`MAX_PIXELS`, 100 MP): larger images are refused from their header,
  so a decompression bomb cannot exhaust memory (Pillow's own bomb limit does not apply:
  ``max_pixels`` is the one limit). A file whose header Pillow cannot parse is never handed
  to OpenCV, so no format escapes this check (OpenCV alone reads Radiance HDR and PFM, which
  are therefore refused). Decoded arrays are checked again against the limit.
- :data:`MIN_SIDE` (2 px): a 1-pixel-wide image has no neighbourhood to measure.
- :data:`MAX_SIDE_RATIO` (200:1): the features work on an image whose long side is at most
  448 px; a thinner strip (e.g. 4000x2) would be under 2 px across there.

Partly decodable files
----------------------
featrisk refuses an image whose data ends early and scores one whose structure is complete:

- A **truncated JPEG** (its scans end before the end-of-image marker) is refused with the
  measured share that decoded, "truncated JPEG: decoded 40% of scanlines", measured by one
  silent Pillow decode of the failed file only (a progressive JPEG names the scan it was cut
  in: none of its scanlines is complete). Bytes after the marker (phone trailers, motion
  photos) are fine. Its pixels would be a flat fill below the cut: features of that fill
  describe the download, not the photo.
- A **truncated PNG** (libpng refuses it) is refused as "truncated PNG: decoded N% of rows",
  measured by inflating its remaining image data, without decoding pixels. Other truncated
  formats are refused as "truncated GIF: ...", with the decoder's reason.
- A JPEG **corrupted in the middle** (bytes changed, end marker present) is scored as
  libjpeg recovers it: the damage (smeared or grey blocks) is visible in the pixels a
  classifier sees, so it is exactly what the features should measure; libjpeg reports
  "Corrupt JPEG data" on stderr. A PNG that libpng refuses for a bad checksum is scored if
  Pillow decodes every row of it, and refused as "corrupt PNG: decoded N% of rows" if not.

Every refusal raises :class:`~featrisk.errors.DecodeError` whose message starts with the
path, says what is wrong and, where there is one, the fix.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from featrisk import _decode
from featrisk._header import MAX_SIDE_RATIO, MIN_SIDE, header_facts, megapixels, parse_header
from featrisk._header import check_size as check_size  # re-exported: featrisk.inputs uses it
from featrisk._header import jpeg_quality_from_tables as jpeg_quality_from_tables
from featrisk.errors import DecodeError

__all__ = ["IN_MEMORY", "MAX_BYTES", "MAX_PIXELS", "MAX_SIDE_RATIO", "MIN_SIDE", "Decoded", "FileFacts",
           "decode_bytes", "fit_size", "jpeg_scale", "read_image"]

#: ``FileFacts.format`` of pixels given in memory (arrays, PIL images): there is no file.
IN_MEMORY = "ARRAY"
#: Default limit on width x height (pixels) above which a file is refused before decoding.
MAX_PIXELS = 100_000_000
#: Default limit on file size (bytes) above which a file is refused before it is read.
MAX_BYTES = 512_000_000


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
        Container format from the header, upper case (``"JPEG"``, ``"PNG"``, ``"WEBP"``, ...),
        or :data:`IN_MEMORY` for pixels given as an array or PIL image (no file: the other
        file facts then describe the same pixels stored uncompressed).
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


def _read_at_most(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes of a file, unbuffered (no file object: 7 us less per file)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while limit > 0:
            chunk = os.read(fd, min(limit, 1 << 30))
            if not chunk:
                break
            chunks.append(chunk)
            limit -= len(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_file(path: Path, max_bytes: int) -> bytes:
    """Read a whole regular file of at most ``max_bytes``, refusing anything else by reason."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        link = " (broken symbolic link)" if path.is_symlink() else ""
        raise DecodeError(f"{path}: file not found{link}") from None
    except PermissionError:
        raise DecodeError(f"{path}: permission denied; check the file's permissions") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DecodeError(f"{path}: cannot read file ({reason})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError(f"{path}: is a directory, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise DecodeError(f"{path}: not a regular file (a pipe, socket or device); give an image file")
    if st.st_size > max_bytes:
        raise DecodeError(
            f"{path}: file is {st.st_size / 1e6:.3g} MB, above the {max_bytes / 1e6:.3g} MB limit; "
            "raise max_bytes to process it"
        )
    try:
        data = _read_at_most(path, st.st_size + 1)  # one byte more to notice a growing file
    except PermissionError:
        raise DecodeError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise DecodeError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if len(data) > st.st_size:
        raise DecodeError(f"{path}: file grew while being read (still being written?); retry "
                          "when it is complete")
    if not data:
        raise DecodeError(f"{path}: empty file (0 bytes)")
    return data


def fit_size(width: int, height: int, short_side: int, long_side: int) -> tuple[int, int]:
    """Size (width, height) of an image shrunk to fit ``short_side`` x ``long_side`` px.

    The short side ends at most ``short_side`` and the long side at most ``long_side``
    pixels, keeping the aspect ratio; an image that already fits keeps its size (never
    upscaled). Each side is at least 1 px.
    """
    scale = min(1.0, short_side / min(width, height), long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


#: OpenCV flags of the reduced JPEG decodes (libjpeg DCT scaling), by scale denominator.
_REDUCED = {
    "color": {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
              8: cv2.IMREAD_REDUCED_COLOR_8},
    "grey": {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
             8: cv2.IMREAD_REDUCED_GRAYSCALE_8},
}


def jpeg_scale(width: int, height: int, target: tuple[int, int]) -> int:
    """Largest libjpeg scale denominator (8, 4, 2 or 1) that decodes at least ``target``.

    libjpeg's scaled decode of a ``width`` x ``height`` JPEG at 1/d gives
    ``ceil(width / d)`` x ``ceil(height / d)`` pixels; ``target`` is (width, height) in the
    same (stored, un-rotated) orientation.
    """
    for d in (8, 4, 2):
        if -(-width // d) >= target[0] and -(-height // d) >= target[1]:
            return d
    return 1


def _reduced_flags(im: Image.Image, fit: tuple[int, int]) -> int | None:
    """OpenCV flags that decode an 8-bit grey or YCbCr JPEG at the smallest libjpeg scale
    still at least the ``fit`` size (orientation left to :func:`read_image`), or None when a
    full decode is needed: another colour mode (CMYK, ...) or a scale of 1."""
    if im.mode not in ("L", "RGB"):
        return None
    w, h = im.size
    d = jpeg_scale(w, h, fit_size(w, h, *fit))
    if d == 1:
        return None
    return _REDUCED["grey" if im.mode == "L" else "color"][d] | cv2.IMREAD_IGNORE_ORIENTATION


def read_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS,
               max_bytes: int = MAX_BYTES, fit: tuple[int, int] | None = None) -> Decoded:
    """Read and decode one image file to upright 8-bit RGB.

    Parameters
    ----------
    path : str or path-like
        The image file. Any extension (or none); the format is read from the bytes.
    max_pixels : int, default 100_000_000
        Files whose header declares more pixels than this are refused before any pixel
        is decoded, so a decompression bomb cannot exhaust memory.
    max_bytes : int, default 512_000_000
        Files larger than this on disk are refused before they are read.
    fit : (short_side, long_side) in px, optional
        Return the image shrunk with area averaging to fit this size (:func:`fit_size`;
        never upscaled) instead of at native resolution. 8-bit grey and colour JPEGs are
        then decoded at the smallest libjpeg scale (1/8, 1/4 or 1/2) still at least that
        size, which skips most of the decoding work, and area-averaged from there.
        ``facts.width`` and ``facts.height`` stay the native size.

    Returns
    -------
    Decoded
        ``rgb``: HxWx3 uint8 array in RGB order; ``facts``: :class:`FileFacts`.

    Raises
    ------
    DecodeError
        With a message that starts with the path and says why: file not found, is a
        directory, not a regular file, empty file, above the byte or pixel limit, too small
        or too thin to measure, not an image (and what it starts with), unsupported format
        (named), truncated (with the share that decoded), or undecodable.
    """
    return decode_bytes(_read_file(Path(path), max_bytes), str(path), max_pixels=max_pixels,
                        fit=fit)


def decode_bytes(data: bytes, name: str, *, max_pixels: int = MAX_PIXELS,
                 fit: tuple[int, int] | None = None) -> Decoded:
    """Decode one encoded image held in memory, exactly as :func:`read_image` decodes a file.

    ``name`` stands for the path in ``facts.path`` and in every error message. Raises
    :class:`~featrisk.errors.DecodeError` for the same reasons as :func:`read_image` (an
    empty byte string included) but the file-system ones.
    """
    p = name
    if not data:
        raise DecodeError(f"{p}: empty byte string (0 bytes)")
    im, fmt = parse_header(p, data, max_pixels)
    if fmt in ("JPEG", "MPO"):
        truncated = _decode.jpeg_truncation(data, im)
        if truncated:
            raise DecodeError(f"{p}: {truncated}")
    bit_depth, has_alpha, quality, chroma, orientation = header_facts(im, fmt)
    flags = _reduced_flags(im, fit) if fit is not None and fmt in ("JPEG", "MPO") else None
    reduced = False  # True once a reduced-scale decode has given the pixels
    arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8),
                       cv2.IMREAD_UNCHANGED if flags is None else flags)
    if arr is not None and arr.size > 0:
        reduced = flags is not None
        if not reduced and arr.shape[0] * arr.shape[1] > max_pixels:
            raise DecodeError(f"{p}: decoded image is {arr.shape[1]}x{arr.shape[0]}, above the "
                              f"{megapixels(max_pixels)} MP limit its header hid; raise max_pixels")
        rgb, channels = _decode.to_rgb8(arr)
        bit_depth = max(bit_depth, 8 * arr.dtype.itemsize)
        has_alpha = has_alpha or channels in (2, 4)
    else:
        # OpenCV refused it; before Pillow tries (which pads a truncated PNG with black if the
        # caller set ImageFile.LOAD_TRUNCATED_IMAGES), refuse incomplete PNG data by measure
        problem = _decode.png_problem(data) if fmt == "PNG" else None
        if problem:
            raise DecodeError(f"{p}: {problem}")
        try:
            rgb, channels = _decode.pillow_decode(im)
        except Exception as exc:  # noqa: BLE001 - any decoder failure becomes a reason
            raise DecodeError(f"{p}: {_decode.describe_failed_decode(fmt, exc)}") from exc
    rgb = _decode.orient(rgb, orientation)
    h, w = rgb.shape[:2]
    if reduced:  # the native size is the header's, upright
        w, h = im.size if orientation < 5 else im.size[::-1]
    if fit is not None:
        size = fit_size(w, h, *fit)
        if size != rgb.shape[1::-1]:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    facts = FileFacts(
        path=name,
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
