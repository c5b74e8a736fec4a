"""Hostile and odd inputs, model files and outputs.

Every input path gives exactly one row, in order, in ``extract``, ``predict`` and the CLI;
an unreadable file's ``error`` says what is wrong in words a user can act on; a valid image
in a bad batch scores as it does alone; limits hold before any pixel is decoded. Model files
are never unpickled. The CLI never replaces an output without ``--overwrite``.

Every file is generated at run time from scikit-image's photos; nothing binary is committed.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import photo
from PIL import Image

import featrisk
import featrisk.io
from featrisk.cli import main
from featrisk.errors import DecodeError, ModelFileError
from featrisk.features._base import work_size
from featrisk.io import MAX_SIDE_RATIO, MIN_SIDE, read_image
from featrisk.profiles import PROFILES
from featrisk.schema import FEATURE_COLUMNS

FEATURES = list(FEATURE_COLUMNS)
#: Features of one image in two runs agree to this relative tolerance, not exactly:
#: cv2.magnitude rounds by the arrays' memory alignment (1 ulp), which can move a pixel across
#: a quantile threshold (noise_sigma_flat moved 5e-5). Set to 0 once the feature modules
#: compute magnitudes with numpy (diff in the report of the hostile-inputs issue).
FEATURE_RTOL = 0


# ---------------------------------------------------------------------------- file makers
def _rgb() -> np.ndarray:
    return cv2.resize(photo("chelsea"), (240, 160), interpolation=cv2.INTER_AREA)


def _pil(**kw: object) -> Callable[[Image.Image], bytes]:
    fmt = kw.pop("format")

    def encode(im: Image.Image) -> bytes:
        buf = io.BytesIO()
        im.save(buf, format=fmt, **kw)
        return buf.getvalue()

    return encode


def _jpeg(rgb: np.ndarray | None = None, **kw: object) -> bytes:
    return _pil(format="JPEG", quality=90, **kw)(Image.fromarray(_rgb() if rgb is None else rgb))


def _png(im: Image.Image | None = None) -> bytes:
    return _pil(format="PNG")(im if im is not None else Image.fromarray(_rgb()))


def _cv(ext: str, arr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, arr)
    assert ok
    return buf.tobytes()


def _frames() -> list[Image.Image]:
    return [Image.fromarray(np.full((40, 60, 3), v, np.uint8)) for v in (30, 200, 120)]


def _animated(fmt: str, **kw: object) -> bytes:
    first, *rest = _frames()
    buf = io.BytesIO()
    first.save(buf, format=fmt, save_all=True, append_images=rest, duration=50, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(w: int, h: int, rows: int) -> bytes:
    """A 1-bit black PNG of w x h with ``rows`` rows of data: KBs on disk, w*h in memory."""
    packer, row = zlib.compressobj(9), b"\x00" * (1 + (w + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b""))


def _sof_patched(w: int, h: int) -> bytes:
    data = bytearray(_jpeg())
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def _gif_screen(w: int, h: int) -> bytes:
    data = bytearray(_pil(format="GIF")(Image.fromarray(_rgb())))
    data[6:10] = struct.pack("<HH", w, h)
    return bytes(data)


def _corrupt_middle(data: bytes) -> bytes:
    out = bytearray(data)
    for i in range(len(data) // 2, len(data) // 2 + 200, 7):
        out[i] ^= 0x55
    return bytes(out)


def _exif_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _jpeg(exif=exif.tobytes())


def _flat(value: int, size: int = 64) -> bytes:
    return _cv(".png", np.full((size, size, 3), value, np.uint8))


def _noise(h: int, w: int) -> bytes:
    return _cv(".png", np.random.default_rng(h * 1000 + w).integers(0, 256, (h, w, 3), np.uint8))


# ---------------------------------------------------------------------------- the corpus
@dataclass(frozen=True)
class Case:
    """One file: its name on disk, how to make it, and what must happen."""

    name: str
    filename: str
    make: Callable[[Path], None]
    error: str | None = None  # None: scored; else a regex the error must match
    decodes: int = 1  # cv2.imdecode calls read_image makes on it


def _bytes(data: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data())


def _special(kind: str) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        if kind == "dir":
            p.mkdir()
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "symlink":
            p.symlink_to(p.with_name("gone.jpg"))
        elif kind == "sparse":
            with open(p, "wb") as fh:
                fh.truncate(600_000_000)  # sparse: no disk used, 600 MB by size

    return make


SCORED = [
    Case("jpeg_baseline", "baseline.jpg", _bytes(_jpeg)),
    Case("jpeg_progressive", "progressive.jpg", _bytes(lambda: _jpeg(progressive=True))),
    Case("jpeg_cmyk", "cmyk.jpg",
         _bytes(lambda: _pil(format="JPEG", quality=90)(Image.fromarray(_rgb()).convert("CMYK")))),
    Case("jpeg_exif_orientation_6", "rotated.jpg", _bytes(lambda: _exif_jpeg(6))),
    Case("jpeg_trailing_bytes", "trailer.jpg",
         _bytes(lambda: _jpeg() + np.random.default_rng(1).bytes(4096))),
    Case("jpeg_corrupt_middle", "corrupt_middle.jpg", _bytes(lambda: _corrupt_middle(_jpeg()))),
    Case("png_rgb", "rgb.png", _bytes(_png)),
    Case("png_16bit", "rgb16.png", _bytes(lambda: _cv(".png", _rgb().astype(np.uint16) * 257))),
    Case("png_grey", "grey.png", _bytes(lambda: _png(Image.fromarray(_rgb()).convert("L")))),
    Case("png_grey_alpha", "grey_alpha.png",
         _bytes(lambda: _png(Image.fromarray(_rgb()).convert("LA")))),
    Case("png_rgba", "rgba.png", _bytes(lambda: _png(Image.fromarray(_rgb()).convert("RGBA")))),
    Case("png_palette_transparent", "palette.png",
         _bytes(lambda: _pil(format="PNG", transparency=0)(
             Image.fromarray(_rgb()).convert("P", palette=Image.Palette.ADAPTIVE)))),
    Case("png_1bit", "bilevel.png", _bytes(lambda: _png(Image.fromarray(_rgb()).convert("1")))),
    Case("png_missing_iend", "no_iend.png", _bytes(lambda: _png()[:-12])),
    Case("png_animated", "animated.png", _bytes(lambda: _animated("PNG"))),
    Case("gif", "still.gif", _bytes(lambda: _pil(format="GIF")(Image.fromarray(_rgb())))),
    Case("gif_animated", "animated.gif", _bytes(lambda: _animated("GIF"))),
    Case("webp_lossy", "lossy.webp", _bytes(lambda: _pil(format="WEBP")(Image.fromarray(_rgb())))),
    Case("webp_lossless", "lossless.webp",
         _bytes(lambda: _pil(format="WEBP", lossless=True)(Image.fromarray(_rgb())))),
    Case("webp_animated", "animated.webp", _bytes(lambda: _animated("WEBP", lossless=True))),
    Case("bmp", "image.bmp", _bytes(lambda: _pil(format="BMP")(Image.fromarray(_rgb())))),
    Case("tiff_8bit", "image.tif", _bytes(lambda: _pil(format="TIFF")(Image.fromarray(_rgb())))),
    Case("tiff_16bit", "image16.tiff", _bytes(lambda: _cv(".tif", _rgb().astype(np.uint16) * 257))),
    Case("tiff_float", "float.tif", _bytes(lambda: _pil(format="TIFF")(
        Image.fromarray(_rgb()[..., 0].astype(np.float32) / 255)))),
    Case("tiff_multipage", "pages.tif", _bytes(lambda: _animated("TIFF"))),
    Case("pgm", "grey.pgm", _bytes(lambda: _pil(format="PPM")(Image.fromarray(_rgb()).convert("L")))),
    Case("no_extension", "image_without_extension", _bytes(_jpeg)),
    Case("wrong_extension", "really_a_png.jpg", _bytes(_png)),
    Case("unicode_and_spaces", "café au lait ✓ 猫 photo.jpg", _bytes(_jpeg)),
    Case("all_black", "black.png", _bytes(lambda: _flat(0))),
    Case("all_white", "white.png", _bytes(lambda: _flat(255))),
    Case("flat_grey", "grey_flat.png", _bytes(lambda: _flat(128))),
    Case("tiny_8x8", "tiny8.png", _bytes(lambda: _noise(8, 8))),
    Case("tiny_2x2", "tiny2.png", _bytes(lambda: _noise(2, 2))),
    Case("strip_400x2_at_ratio_limit", "strip_ok.png", _bytes(lambda: _noise(2, 400))),
]

REFUSED = [
    Case("missing", "missing.jpg", lambda p: None, "file not found$", 0),
    Case("broken_symlink", "dangling.jpg", _special("symlink"), r"file not found \(broken symbolic", 0),
    Case("directory", "folder.jpg", _special("dir"), "is a directory", 0),
    Case("fifo", "pipe.jpg", _special("fifo"), "not a regular file", 0),
    Case("over_max_bytes", "huge.jpg", _special("sparse"),
         "file is 600 MB, above the 512 MB limit; raise max_bytes to process it", 0),
    Case("empty", "empty.jpg", _bytes(lambda: b""), r"empty file \(0 bytes\)", 0),
    Case("html", "page.jpg", _bytes(lambda: b"<html><body>404 Not Found</body></html>"),
         "not an image: file starts with '<html'", 0),
    Case("text", "notes.png", _bytes(lambda: b"hello, this is text"),
         "not an image: file starts with 'hello'", 0),
    Case("random_bytes", "noise.jpg", _bytes(lambda: np.random.default_rng(0).bytes(5000)),
         "not an image: file starts with", 0),
    Case("svg", "drawing.svg", _bytes(lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
         "unsupported format: SVG; featrisk reads JPEG, PNG", 0),
    Case("pdf", "scan.jpg", _bytes(lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "unsupported format: PDF", 0),
    Case("heic", "iphone.heic", _bytes(lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\0" * 64),
         "unsupported format: HEIC", 0),
    Case("radiance_hdr", "light.hdr", _bytes(lambda: _cv(".hdr", _rgb().astype(np.float32) / 255)),
         "unsupported format: Radiance HDR", 0),
    Case("icon", "favicon.ico", _bytes(lambda: _pil(format="ICO")(Image.fromarray(_rgb()))),
         r"unsupported format: ICO", 0),
    Case("postscript", "figure.eps", _bytes(lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n"),
         "unsupported format: PostScript/EPS", 0),
    Case("targa", "sprite.tga", _bytes(lambda: _pil(format="TGA")(Image.fromarray(_rgb()))),
         r"unsupported format: TGA", 0),
    Case("pfm", "depth.pfm", _bytes(lambda: _cv(".pfm", _rgb().astype(np.float32) / 255)),
         r"unsupported format: PFM", 0),
    Case("png_bad_header_checksum", "bad_ihdr.png", _bytes(lambda: _png()[:29] + b"\0\0\0\0" + _png()[33:]),
         "truncated or corrupt PNG: its header cannot be parsed", 0),
    Case("zip", "photos.zip", _bytes(lambda: b"PK\x03\x04" + b"\0" * 100),
         "unsupported format: ZIP archive", 0),
    Case("jpeg_truncated_half", "cut.jpg", _bytes(lambda: _jpeg()[: len(_jpeg()) // 2]),
         r"truncated JPEG: decoded \d+% of scanlines; the file ends before its end-of-image", 0),
    Case("jpeg_truncated_in_header", "cut_header.jpg", _bytes(lambda: _jpeg()[:300]),
         "truncated or corrupt JPEG: the header ends or breaks before any image data", 0),
    Case("jpeg_progressive_truncated", "cut_progressive.jpg",
         _bytes(lambda: _jpeg(progressive=True)[: len(_jpeg(progressive=True)) // 2]),
         r"truncated JPEG: progressive file cut during scan \d+", 0),
    Case("png_truncated_half", "cut.png", _bytes(lambda: _png()[: len(_png()) // 2]),
         r"truncated PNG: decoded \d+% of rows", 1),
    Case("gif_truncated", "cut.gif",
         _bytes(lambda: _pil(format="GIF")(Image.fromarray(_rgb()))[:3000]), "truncated GIF", 1),
    Case("webp_truncated", "cut.webp",
         _bytes(lambda: _pil(format="WEBP")(Image.fromarray(_rgb()))[:1000]),
         r"truncated WebP: the file has 1000 of the \d+ bytes", 0),
    Case("png_bomb_144mp", "bomb.png", _bytes(lambda: _png_bomb(12000, 12000, 12000)),
         "image is 12000x12000 = 144 MP, above the 100 MP limit; raise max_pixels to process it", 0),
    Case("png_header_400mp", "bomb400.png", _bytes(lambda: _png_bomb(20000, 20000, 8)),
         "image is 20000x20000 = 400 MP, above the 100 MP limit; raise max_pixels", 0),
    Case("jpeg_header_900mp", "bomb.jpg", _bytes(lambda: _sof_patched(30000, 30000)),
         "image is 30000x30000 = 900 MP, above the 100 MP limit", 0),
    Case("gif_screen_4295mp", "bomb.gif", _bytes(lambda: _gif_screen(65535, 65535)),
         "image is 65535x65535 = 4295 MP, above the 100 MP limit", 0),
    Case("one_pixel", "dot.png", _bytes(lambda: _noise(1, 1)),
         "image is 1x1 px, too small to measure; need at least 2x2 px", 0),
    Case("one_row", "line.png", _bytes(lambda: _noise(1, 300)), "image is 300x1 px, too small", 0),
    Case("strip_4000x2", "strip.png", _bytes(lambda: _noise(2, 4000)),
         r"image is 4000x2 px, a strip too thin to measure \(side ratio 2000:1, above 200:1\)", 0),
    Case("strip_2x4000", "tall_strip.png", _bytes(lambda: _noise(4000, 2)),
         "image is 2x4000 px, a strip too thin to measure", 0),
]

CASES = SCORED + REFUSED
BY_NAME = {c.name: c for c in CASES}


def test_corpus_is_large_and_names_unique() -> None:
    assert len(REFUSED) >= 30 and len(CASES) >= 60
    assert len(BY_NAME) == len(CASES) and len({c.filename for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for case in CASES:
        path = folder / case.filename
        case.make(path)
        paths[case.name] = path
    return paths


@pytest.mark.parametrize("fit", [None, PROFILES["fast"].fit], ids=["default", "fast"])
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_read_image_scores_or_refuses_with_reason(corpus: dict[str, Path], name: str,
                                                  fit: tuple[int, int] | None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    case, path = BY_NAME[name], corpus[name]
    calls = []
    real = cv2.imdecode
    monkeypatch.setattr(featrisk.io.cv2, "imdecode", lambda *a: calls.append(1) or real(*a))
    started = time.perf_counter()
    if case.error is None:
        decoded = read_image(path, fit=fit)
        assert decoded.rgb.dtype == np.uint8 and decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3
        assert decoded.facts.path == str(path)
    else:
        with pytest.raises(DecodeError, match=case.error) as info:
            read_image(path, fit=fit)
        assert str(info.value).startswith(f"{path}: ")
    assert len(calls) == case.decodes, "one OpenCV decode per image, none for files refused early"
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize("name", ["png_bomb_144mp", "png_header_400mp", "jpeg_header_900mp",
                                  "gif_screen_4295mp", "over_max_bytes"])
def test_limits_hold_before_pixels_exist(corpus: dict[str, Path], name: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError, match="limit"):
            read_image(corpus[name])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"{peak / 1e6:.0f} MB allocated while refusing {name}"


def test_raised_limits_admit_what_they_allow(corpus: dict[str, Path]) -> None:
    with pytest.raises(DecodeError, match=r"1000 MB limit|above the 0\.01 MB limit"):
        read_image(corpus["jpeg_baseline"], max_bytes=10_000)
    decoded = read_image(corpus["png_rgb"], max_pixels=240 * 160)
    assert decoded.rgb.shape == (160, 240, 3)
    with pytest.raises(DecodeError, match=r"0\.0384 MP, above the 0\.0384 MP|above the"):
        read_image(corpus["png_rgb"], max_pixels=240 * 160 - 1)


def test_side_limits_keep_the_working_image_measurable() -> None:
    # a strip at the ratio limit keeps at least MIN_SIDE px across at the working resolution
    for long_side in (400, 448, 1000, 4000, 40000):
        short = math.ceil(long_side / MAX_SIDE_RATIO)
        assert min(work_size(long_side, max(short, MIN_SIDE))) >= MIN_SIDE


def test_permission_denied_is_named(corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # the tests may run as root, whom file modes do not stop: the OS refusal is simulated
    monkeypatch.setattr(featrisk.io.os, "open", denied)
    with pytest.raises(DecodeError, match="permission denied; check the file's permissions"):
        read_image(corpus["jpeg_baseline"])


@pytest.mark.parametrize("kind", ["GIF", "WEBP", "PNG", "TIFF"])
def test_multi_frame_files_give_their_first_frame(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"frames.{kind.lower()}"
    path.write_bytes(_animated(kind, **({"lossless": True} if kind == "WEBP" else {})))
    assert np.all(read_image(path).rgb == 30)


def test_corrupt_middle_jpeg_is_scored_as_libjpeg_recovers_it(corpus: dict[str, Path]) -> None:
    damaged = read_image(corpus["jpeg_corrupt_middle"]).rgb.astype(int)
    clean = read_image(corpus["jpeg_baseline"]).rgb.astype(int)
    rows = np.abs(damaged - clean).max(axis=(1, 2))
    assert rows[:40].max() <= 2, "rows before the damage decode as in the clean file"
    assert rows[80:].max() > 30, "the damage is visible: that is what the features measure"


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_truncated_jpeg_share_is_measured(tmp_path: Path, progressive: bool) -> None:
    full = _jpeg(photo("astronaut"), progressive=progressive)
    reference = np.asarray(Image.open(io.BytesIO(full)).convert("RGB")).astype(int)
    shares = []
    for cut in (0.25, 0.5, 0.75, 0.95):
        path = tmp_path / f"cut{cut}.jpg"
        path.write_bytes(full[: int(len(full) * cut)])
        with pytest.raises(DecodeError, match="truncated JPEG") as info:
            read_image(path)
        if progressive:
            assert "no scanline is decoded in full" in str(info.value)
            continue
        share = int(str(info.value).split("decoded ")[1].split("%")[0])
        patched = np.asarray(Image.open(io.BytesIO(path.read_bytes() + b"\xff\xd9")).convert("RGB"))
        differs = np.flatnonzero(np.abs(patched.astype(int) - reference).max(axis=(1, 2)) > 8)
        truth = 100 * (differs[0] if differs.size else reference.shape[0]) / reference.shape[0]
        assert abs(share - truth) <= 5, (cut, share, truth)
        shares.append(share)
    assert shares == sorted(shares)


def test_truncated_png_share_rises_with_the_cut(tmp_path: Path) -> None:
    full = _png(Image.fromarray(photo("coffee")))
    shares = []
    for cut in (0.2, 0.5, 0.8):
        path = tmp_path / f"cut{cut}.png"
        path.write_bytes(full[: int(len(full) * cut)])
        with pytest.raises(DecodeError, match=r"truncated PNG: decoded (\d+)% of rows") as info:
            read_image(path)
        shares.append(int(str(info.value).split("decoded ")[1].split("%")[0]))
    assert shares == sorted(shares) and 5 < shares[0] and shares[-1] < 100


# ---------------------------------------------------------------------------- batches
@pytest.fixture(scope="module")
def batch(corpus: dict[str, Path]) -> tuple[list[str], pd.DataFrame]:
    paths = [str(corpus[c.name]) for c in CASES]
    return paths, featrisk.extract(paths)


def test_extract_gives_one_row_per_input_in_order(batch) -> None:
    paths, table = batch
    assert table["path"].tolist() == paths
    for case, (_, row) in zip(CASES, table.iterrows(), strict=True):
        values = row[FEATURES].to_numpy(dtype=float)
        if case.error is None:
            assert row["error"] is None, (case.name, row["error"])
            assert np.isfinite(values).all(), case.name
        else:
            assert pd.Series([row["error"]]).str.contains(case.error).all(), (case.name, row["error"])
            assert np.isnan(values).all(), case.name


def test_fast_profile_gives_the_same_verdicts(batch) -> None:
    # the fast profile decodes JPEGs at reduced scale: every hostile file must still score
    # or be refused with the same reason, one row per input, in order
    paths, table = batch
    fast = featrisk.extract(paths, profile="fast")
    assert fast["path"].tolist() == paths
    assert fast["error"].tolist() == table["error"].tolist()
    good = fast["error"].isna().to_numpy()
    assert np.isfinite(fast.loc[good, FEATURES].to_numpy()).all()


def test_valid_images_score_as_they_do_alone(batch) -> None:
    paths, table = batch
    for case, path in zip(CASES, paths, strict=True):
        if case.error is None:
            alone = featrisk.extract([path])
            np.testing.assert_allclose(table.loc[table["path"] == path, FEATURES].to_numpy()[0],
                                       alone[FEATURES].to_numpy()[0], rtol=FEATURE_RTOL,
                                       err_msg=case.name)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model fitted on a synthetic table (the model's quality is not under test)."""
    rng = np.random.default_rng(0)
    n = 240
    table = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    table.insert(0, "path", [f"img{i}.jpg" for i in range(n)])
    table["error"] = None
    correct = (table[FEATURES[3]] + 0.5 * rng.normal(size=n)) > 0
    model = featrisk.fit(table, correct.to_numpy(), cv=3, n_estimators=20)
    return model.save(tmp_path_factory.mktemp("model") / "model.json")


def test_predict_gives_one_row_per_input_and_flags_unreadable(batch, model_file: Path) -> None:
    paths, table = batch
    result = featrisk.predict(paths, model_file)
    assert result["path"].tolist() == paths
    bad = table["error"].notna().to_numpy()
    assert result["risk"][bad].isna().all() and result["flagged"][bad].all()
    assert result["risk"][~bad].between(0, 1).all()
    assert result["error"][bad].tolist() == table["error"][bad].tolist()


def test_cli_extract_and_predict_keep_every_row(batch, model_file: Path, tmp_path: Path) -> None:
    paths, table = batch
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(paths), encoding="utf-8")
    assert main(["extract", "--list", str(listing), "-o", str(tmp_path / "f.parquet"), "--quiet"]) == 0
    written = pd.read_parquet(tmp_path / "f.parquet")
    assert written["path"].tolist() == paths
    assert written["error"].notna().tolist() == table["error"].notna().tolist()
    assert main(["predict", "--list", str(listing), "-m", str(model_file), "-o",
                 str(tmp_path / "r.csv"), "--quiet"]) == 0
    risk = pd.read_csv(tmp_path / "r.csv")
    assert risk["path"].tolist() == paths and risk["flagged"][table["error"].notna()].all()


# ---------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("command", ["extract", "predict", "fit"])
def test_cli_never_overwrites_without_flag(command: str, corpus: dict[str, Path], model_file: Path,
                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / ("m.json" if command == "fit" else "out.csv")
    out.write_text("keep me")
    image = str(corpus["jpeg_baseline"])
    args = {"extract": ["extract", image, "-o", str(out), "--quiet"],
            "predict": ["predict", image, "-m", str(model_file), "-o", str(out), "--quiet"],
            "fit": ["fit", "--labels", str(tmp_path / "labels.csv"), "-o", str(out)]}[command]
    assert main(args) == 2
    assert "exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    if command != "fit":
        assert main([*args, "--overwrite"]) == 0
        assert pd.read_csv(out)["path"].tolist() == [image]


# ---------------------------------------------------------------------------- model files
class _Tripwire:
    """Unpickling this creates a file: proof that a loader ran pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (open, (str(self.marker), "w"))


def _joblib(compress: object) -> Callable[[Path], bytes]:
    def make(tmp: Path) -> bytes:
        buf = io.BytesIO()
        joblib.dump(_Tripwire(tmp / "unpickled"), buf, compress=compress)
        return buf.getvalue()

    return make


def _zip(model: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(model, "model.json")
    return buf.getvalue()


def _edit(model: Path, change: Callable[[dict], None]) -> bytes:
    doc = json.loads(model.read_text(encoding="utf-8"))
    change(doc)
    return json.dumps(doc).encode("utf-8")


PICKLE = "featrisk never unpickles files .*JSON text written by model.save"
MODEL_FILES: dict[str, tuple[Callable[[Path, Path], bytes], str]] = {
    **{f"pickle_protocol_{p}": ((lambda t, m, p=p: pickle.dumps(_Tripwire(t / "unpickled"), protocol=p)),
                                PICKLE) for p in range(2, 6)},
    "joblib_plain": (lambda t, m: _joblib(0)(t), PICKLE),
    "zip": (lambda t, m: _zip(m), PICKLE),
    "empty": (lambda t, m: b"", r"not a valid featrisk model \(truncated or not JSON|empty file"),
    "random_bytes": (lambda t, m: np.random.default_rng(3).bytes(2048),
                     r"not a valid featrisk model \(truncated or not JSON"),
    "json_array": (lambda t, m: b"[1, 2, 3]", "not a featrisk model .no 'format'"),
    "csv_text": (lambda t, m: b"path,risk\na.jpg,0.5\n", "not a valid featrisk model"),
    "wrong_checksum": (lambda t, m: _edit(m, lambda d: d.update(booster_sha256="0" * 64)),
                       "checksum mismatch: the model text was altered or truncated"),
    "booster_altered": (lambda t, m: _edit(m, lambda d: d.update(booster=d["booster"][:-500])),
                        "checksum mismatch"),
    "truncated": (lambda t, m: m.read_bytes()[: m.stat().st_size // 2],
                  r"not a valid featrisk model \(truncated or not JSON"),
    "future_format": (lambda t, m: _edit(m, lambda d: d.update(format_version=99)),
                      "model file format 99 is not readable by this featrisk"),
}

#: Files persist.py does not yet refuse as the issue asks: see the diff in the report.
MODEL_GAPS: dict[str, tuple[Callable[[Path, Path], bytes], str]] = {
    **{f"pickle_protocol_{p}": ((lambda t, m, p=p: pickle.dumps(_Tripwire(t / "unpickled"), protocol=p)),
                                PICKLE) for p in (0, 1)},
    **{f"joblib_{c[0] if isinstance(c, tuple) else 'zlib'}": ((lambda t, m, c=c: _joblib(c)(t)), PICKLE)
       for c in (3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3))},
    "empty_named": (lambda t, m: b"", r"empty file \(0 bytes\)"),
    "manifest_altered": (lambda t, m: _edit(m, lambda d: d["manifest"].update(threshold=1e-6)),
                         "checksum mismatch"),
    "manifest_incomplete": (lambda t, m: _edit(m, lambda d: d["manifest"].pop("params")),
                            "manifest"),
}


def _check_model_file(tmp_path: Path, model_file: Path, make: Callable, match: str) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(make(tmp_path, model_file))
    with pytest.raises(ModelFileError, match=match) as info:
        featrisk.load(path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "unpickled").exists(), "featrisk.load unpickled the file"


@pytest.mark.parametrize("name", list(MODEL_FILES))
def test_bad_model_files_are_refused_by_name(tmp_path: Path, model_file: Path, name: str) -> None:
    make, match = MODEL_FILES[name]
    _check_model_file(tmp_path, model_file, make, match)


@pytest.mark.parametrize("name", list(MODEL_GAPS))
def test_model_file_gaps(tmp_path: Path, model_file: Path, name: str) -> None:
    make, match = MODEL_GAPS[name]
    _check_model_file(tmp_path, model_file, make, match)


def test_good_model_file_loads(model_file: Path) -> None:
    loaded = featrisk.load(model_file)
    assert isinstance(loaded, featrisk.RiskModel) and set(FEATURES) <= set(loaded.feature_names_)


def test_truncated_png_refused_even_if_pillow_is_told_to_pad(corpus: dict[str, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # common in torch pipelines
    with pytest.raises(DecodeError, match=r"truncated PNG: decoded \d+% of rows"):
        read_image(corpus["png_truncated_half"])
    with pytest.raises(DecodeError, match=r"truncated JPEG: decoded \d+% of scanlines"):
        read_image(corpus["jpeg_truncated_half"])
