"""What :func:`featrisk.extract` and :func:`featrisk.predict` accept, and how each is decoded.

An *item* is one image, in any of these forms, alone or mixed in one list:

- a **path** (``str`` or path-like): the file is read and decoded (:func:`featrisk.io.read_image`);
- **encoded bytes** (``bytes``, ``bytearray`` or ``memoryview``: the contents of a JPEG, PNG,
  ... file, e.g. an upload): decoded exactly as the file would be, with the same checks
  and the same features;
- a **decoded array** (NumPy ``uint8``): ``H x W x 3`` in RGB order (pass
  ``channel_order="BGR"`` for OpenCV's order), ``H x W x 4`` RGBA (alpha dropped), or
  ``H x W`` / ``H x W x 1`` grey; a 4-D ``N x H x W x C`` array is ``N`` items;
- a **PIL image**: converted with ``Image.convert("RGB")``, as classifier loaders do.

Arrays and PIL images carry pixels only, so they are read as is (no EXIF rotation) and the
columns that describe a file (:data:`~featrisk.schema.FILE_COLUMNS`: format, JPEG quality,
chroma subsampling, bytes per pixel, bit depth, channels, alpha) are NaN: a model fills
them with the middle of its training images' values, so a photo scores about as its file
would (BENCHMARKS.md measures the difference). Every other column equals the one the file
route gives for the same pixels. Items held in
memory are named ``"<bytes #i>"``, ``"<array #i>"`` or ``"<PIL image #i>"`` (``i`` their
position in the call) in the ``path`` column and in error messages; nothing is written to
disk. A bad item (wrong type, dtype or shape, undecodable bytes) becomes an error row.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from featrisk.errors import DecodeError
from featrisk.io import (
    IN_MEMORY,
    MAX_PIXELS,
    Decoded,
    FileFacts,
    check_size,
    decode_bytes,
    fit_size,
    read_image,
)
from featrisk.schema import FILE_COLUMNS

__all__ = ["CHANNEL_ORDERS", "FILE_COLUMNS", "as_items", "decode_item", "item_name"]

#: Channel orders a 3- or 4-channel array may be given in.
CHANNEL_ORDERS = ("RGB", "BGR")

_BYTES = bytes | bytearray | memoryview


def _is_image_array(a: np.ndarray) -> bool:
    return a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))


def as_items(X: Any) -> list[Any]:
    """One item or an iterable of items as a list (a 4-D array becomes its images).

    A single path, byte string, image array or PIL image is one item. Anything else must be
    iterable; its elements are checked one by one when they are decoded (a bad one becomes
    an error row), so only a non-iterable ``X`` raises here.
    """
    if isinstance(X, str | os.PathLike | Image.Image | _BYTES):
        return [X]
    if isinstance(X, np.ndarray):
        if X.ndim == 4:
            return list(X)
        if X.ndim in (2, 3) and X.dtype != object:
            return [X]
        return list(X) if X.ndim == 1 else [X]
    if isinstance(X, pd.Series):
        return X.tolist()
    if isinstance(X, pd.DataFrame):
        raise TypeError("a DataFrame is a feature table, not a list of images; pass its "
                        "paths (table['path']) or the table itself where a table is accepted")
    if not isinstance(X, Iterable):
        raise TypeError(f"expected images (paths, bytes, arrays or PIL images, or a list of "
                        f"them), got {type(X).__name__}: {X!r:.80}")
    return list(X)


def item_name(item: Any, index: int) -> str:
    """The ``path`` column's value for an item: its path, or its kind and position."""
    if isinstance(item, str | os.PathLike):
        return os.fspath(item)
    if isinstance(item, _BYTES):
        return f"<bytes #{index}>"
    if isinstance(item, np.ndarray):
        return f"<array #{index}>"
    if isinstance(item, Image.Image):
        return f"<PIL image #{index}>"
    return f"<{type(item).__name__} #{index}>"


def decode_item(item: Any, name: str, *, max_pixels: int = MAX_PIXELS,
                fit: tuple[int, int] | None = None, channel_order: str = "RGB") -> Decoded:
    """Decode one item to upright 8-bit RGB and its facts; DecodeError says why not."""
    if isinstance(item, str | os.PathLike):
        return read_image(item, max_pixels=max_pixels, fit=fit)
    if isinstance(item, _BYTES):
        return decode_bytes(bytes(item), name, max_pixels=max_pixels, fit=fit)
    if isinstance(item, np.ndarray):
        return from_array(item, name, max_pixels=max_pixels, fit=fit, channel_order=channel_order)
    if isinstance(item, Image.Image):
        return from_pil(item, name, max_pixels=max_pixels, fit=fit)
    raise DecodeError(f"{name}: not an image but a {type(item).__name__}; give a path, encoded "
                      "bytes, a uint8 array (H x W x 3 RGB or H x W grey) or a PIL image")


def _array_problem(a: np.ndarray) -> str | None:
    """Why an array is not an ``H x W [x C]`` uint8 image, with the fix; None if it is one."""
    if a.dtype != np.uint8:
        return (f"array of dtype {a.dtype}; featrisk reads uint8 pixels (0-255) as decoded, "
                "before any normalisation: pass the uint8 array, or convert with "
                "np.clip(x * 255, 0, 255).round().astype(np.uint8) for floats in 0-1")
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 3, 4):
        return (f"array of shape {a.shape} looks channels-first (C x H x W); featrisk reads "
                "H x W x C: pass a.transpose(1, 2, 0)")
    if not _is_image_array(a):
        return (f"array of shape {a.shape}; featrisk reads H x W x 3 (RGB), H x W x 4 (RGBA) "
                "or H x W (grey) arrays, and N x H x W x C batches")
    return None


def _facts(name: str, w: int, h: int, channels: int) -> FileFacts:
    """Facts of pixels held in memory (format :data:`~featrisk.io.IN_MEMORY`)."""
    return FileFacts(path=name, file_bytes=w * h * channels, format=IN_MEMORY, width=w, height=h,
                     channels=channels, bit_depth=8, has_alpha=channels in (2, 4),
                     jpeg_quality=100.0, chroma_share=1.0, orientation=1)


def _fitted(rgb: np.ndarray, fit: tuple[int, int] | None) -> np.ndarray:
    if fit is None:
        return rgb
    size = fit_size(rgb.shape[1], rgb.shape[0], *fit)
    return rgb if size == rgb.shape[1::-1] else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def from_array(a: np.ndarray, name: str, *, max_pixels: int = MAX_PIXELS,
               fit: tuple[int, int] | None = None, channel_order: str = "RGB") -> Decoded:
    """A decoded uint8 array as featrisk's RGB image; DecodeError for a bad dtype or shape."""
    problem = _array_problem(a)
    if problem:
        raise DecodeError(f"{name}: {problem}")
    h, w = a.shape[:2]
    check_size(name, w, h, max_pixels)
    channels = 1 if a.ndim == 2 else a.shape[2]
    if channels == 1:
        rgb = cv2.cvtColor(np.ascontiguousarray(a.reshape(h, w)), cv2.COLOR_GRAY2RGB)
    else:
        code = {("RGB", 3): None, ("BGR", 3): cv2.COLOR_BGR2RGB,
                ("RGB", 4): cv2.COLOR_RGBA2RGB, ("BGR", 4): cv2.COLOR_BGRA2RGB}[
                    channel_order, channels]
        src = np.ascontiguousarray(a)
        rgb = src if code is None else cv2.cvtColor(src, code)
    return Decoded(rgb=_fitted(rgb, fit), facts=_facts(name, w, h, channels))


def from_pil(im: Image.Image, name: str, *, max_pixels: int = MAX_PIXELS,
             fit: tuple[int, int] | None = None) -> Decoded:
    """A PIL image as featrisk's RGB image (``convert("RGB")``, no EXIF rotation)."""
    w, h = im.size
    check_size(name, w, h, max_pixels)
    try:
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise DecodeError(f"{name}: cannot convert the PIL image to RGB "
                          f"({type(exc).__name__}: {exc})") from exc
    channels = len(im.getbands())
    return Decoded(rgb=_fitted(np.ascontiguousarray(rgb), fit),
                   facts=_facts(name, w, h, min(channels, 4)))
