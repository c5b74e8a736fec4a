"""Decoding: formats normalised to upright 8-bit RGB, and clear reasons for bad files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import photo, write_rgb
from PIL import Image

from featrisk.errors import DecodeError
from featrisk.io import jpeg_quality_from_tables, read_image


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return photo("chelsea")


def test_jpeg_decodes_to_rgb_with_facts(tmp_path: Path, chelsea: np.ndarray) -> None:
    d = read_image(write_rgb(tmp_path / "c.jpg", chelsea, quality=80))
    assert d.rgb.dtype == np.uint8 and d.rgb.shape == chelsea.shape
    assert d.facts.format == "JPEG" and d.facts.channels == 3
    assert abs(d.facts.jpeg_quality - 80) <= 2
    # RGB order: chelsea is an orange cat, red channel brighter than blue
    assert d.rgb[..., 0].mean() > d.rgb[..., 2].mean()


@pytest.mark.parametrize("quality", [10, 30, 50, 75, 90, 98], ids=lambda q: f"q{q}")
def test_jpeg_quality_recovered_from_tables(tmp_path: Path, chelsea: np.ndarray, quality: int) -> None:
    d = read_image(write_rgb(tmp_path / "c.jpg", chelsea, quality=quality))
    assert abs(d.facts.jpeg_quality - quality) <= 1


def test_quality_without_tables_is_lossless() -> None:
    assert jpeg_quality_from_tables(None) == 100.0


def _pil_save(path: Path, arr: np.ndarray, mode: str | None = None, **kw: object) -> Path:
    Image.fromarray(arr, mode=mode).save(path, **kw) if mode else Image.fromarray(arr).save(path, **kw)
    return path


@pytest.mark.parametrize(
    ("kind", "channels", "alpha"),
    [("grey", 1, False), ("grey16", 1, False), ("rgba", 4, True), ("palette", 3, False),
     ("rgb16", 3, False), ("grey_alpha", 2, True)],
    ids=lambda v: str(v),
)
def test_png_variants_normalised_to_rgb8(tmp_path: Path, chelsea: np.ndarray, kind: str,
                                         channels: int, alpha: bool) -> None:
    grey = cv2.cvtColor(chelsea, cv2.COLOR_RGB2GRAY)
    path = tmp_path / f"{kind}.png"
    if kind == "grey":
        cv2.imwrite(str(path), grey)
    elif kind == "grey16":
        cv2.imwrite(str(path), grey.astype(np.uint16) * 257)
    elif kind == "rgb16":
        cv2.imwrite(str(path), cv2.cvtColor(chelsea, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    elif kind == "rgba":
        rgba = np.dstack([chelsea, np.full(grey.shape, 128, np.uint8)])
        cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    elif kind == "grey_alpha":
        Image.fromarray(np.dstack([grey, grey]), mode="LA").save(path)
    else:
        Image.fromarray(chelsea).convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    d = read_image(path)
    assert d.rgb.dtype == np.uint8 and d.rgb.shape == chelsea.shape
    assert d.facts.has_alpha is alpha
    if kind in ("grey", "grey16", "grey_alpha"):
        assert np.array_equal(d.rgb[..., 0], d.rgb[..., 2])
        assert np.abs(d.rgb[..., 0].astype(int) - grey).max() <= 1
    if kind == "rgb16":
        assert d.facts.bit_depth == 16
        assert np.abs(d.rgb.astype(int) - chelsea).max() <= 1


@pytest.mark.parametrize("orientation", range(1, 9), ids=lambda o: f"exif{o}")
def test_exif_orientation_applied(tmp_path: Path, orientation: int) -> None:
    # a 40x20 image whose top-left quarter is white; after orientation the white corner
    # must be where a viewer shows it
    upright = np.zeros((20, 40, 3), np.uint8)
    upright[:10, :20] = 255
    inverse = {1: upright, 2: upright[:, ::-1], 3: upright[::-1, ::-1], 4: upright[::-1],
               5: upright.transpose(1, 0, 2), 6: np.rot90(upright, 1),
               7: np.rot90(upright, -1)[::-1, ::-1], 8: np.rot90(upright, -1)}[orientation]
    im = Image.fromarray(np.ascontiguousarray(inverse))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    im.save(path, quality=95, exif=exif.tobytes())
    d = read_image(path)
    assert d.rgb.shape == upright.shape
    assert d.rgb[:10, :20].mean() > 200 and d.rgb[10:, 20:].mean() < 50


def test_cmyk_jpeg_decodes(tmp_path: Path, chelsea: np.ndarray) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(chelsea).convert("CMYK").save(path, quality=95)
    d = read_image(path)
    assert d.rgb.shape == chelsea.shape
    assert np.abs(d.rgb.astype(int) - chelsea).mean() < 12


def test_wrong_extension_read_from_bytes(tmp_path: Path, chelsea: np.ndarray) -> None:
    png = write_rgb(tmp_path / "x.png", chelsea)
    disguised = tmp_path / "really_a_png.jpg"
    disguised.write_bytes(png.read_bytes())
    assert read_image(disguised).facts.format == "PNG"


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: p, "file not found"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty file"),
        (lambda p: (p.write_bytes(b"<html><body>404</body></html>"), p)[1],
         "not an image: file starts with '<html'"),
        (lambda p: (p.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'), p)[1],
         "unsupported format: SVG"),
    ],
    ids=["missing", "directory", "empty", "html", "svg"],
)
def test_bad_files_raise_with_reason(tmp_path: Path, setup, match: str) -> None:
    path = setup(tmp_path / "bad.jpg")
    with pytest.raises(DecodeError, match=match) as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_truncated_jpeg_refused(tmp_path: Path, chelsea: np.ndarray) -> None:
    good = write_rgb(tmp_path / "good.jpg", chelsea)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DecodeError, match="truncated JPEG"):
        read_image(cut)


def test_pixel_limit_refuses_before_decode(tmp_path: Path, chelsea: np.ndarray) -> None:
    path = write_rgb(tmp_path / "c.png", chelsea)
    with pytest.raises(DecodeError, match=r"above the 0.001 MP limit; raise max_pixels"):
        read_image(path, max_pixels=1000)
