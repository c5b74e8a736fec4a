"""Extraction profiles: the fast profile's reduced decode, and profiles kept apart.

The fast profile shrinks every image to fit 40 x 400 px, decoding JPEGs at 1/2, 1/4 or 1/8
scale. These tests check what a user relies on: the small image is the photo (close to an
area-averaged full decode, upright), the file's true size is still reported, and a table of
one profile is never scored by a model of the other.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import PHOTOS, photo, write_rgb
from PIL import Image

import featrisk
from featrisk.cli import main
from featrisk.errors import SchemaError
from featrisk.io import fit_size, jpeg_scale, read_image
from featrisk.profiles import PROFILES, get_profile, profile_of
from featrisk.stream import extract_to_file

FAST = PROFILES["fast"].fit
FEATURES = list(featrisk.FEATURE_COLUMNS)


@pytest.mark.parametrize(("size", "fit", "expected"), [
    ((500, 375), (40, 400), (53, 40)),
    ((375, 500), (40, 400), (40, 53)),
    ((32, 32), (40, 400), (32, 32)),       # never upscaled
    ((4000, 20), (40, 400), (400, 2)),     # a 200:1 strip stays 2 px across
    ((640, 480), (224, 448), (299, 224)),  # the default profile's working size
])
def test_fit_size(size, fit, expected) -> None:
    assert fit_size(*size, *fit) == expected


@pytest.mark.parametrize(("size", "target", "scale"), [
    ((500, 375), (53, 40), 8),   # 63 x 47 still covers 53 x 40
    ((224, 224), (40, 40), 4),   # 28 px at 1/8 would be too small
    ((64, 48), (53, 40), 1),     # 32 x 24 at 1/2 too small: full decode
    ((4000, 3000), (53, 40), 8),
])
def test_jpeg_scale_never_decodes_below_the_target(size, target, scale) -> None:
    assert jpeg_scale(*size, target) == scale
    assert -(-size[0] // scale) >= target[0] and -(-size[1] // scale) >= target[1]


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("profiles")
    return {n: write_rgb(folder / f"{n}.jpg", photo(n), quality=90) for n in PHOTOS}


@pytest.mark.parametrize("name", PHOTOS)
def test_fast_decode_is_the_area_averaged_photo(jpegs, name: str) -> None:
    full = read_image(jpegs[name])
    fast = read_image(jpegs[name], fit=FAST)
    h, w = full.rgb.shape[:2]
    assert (fast.facts.width, fast.facts.height) == (w, h)  # the file's size, not the decode's
    assert fast.rgb.shape[1::-1] == fit_size(w, h, *FAST) and fast.rgb.dtype == np.uint8
    area = cv2.resize(full.rgb, fast.rgb.shape[1::-1], interpolation=cv2.INTER_AREA)
    # libjpeg's DCT scaling then a small area resize is not bit-exact area averaging from
    # full size, but the same picture: measured mean differences 1.6-3.4 grey levels,
    # pixel correlations 0.985-0.998 on these photos
    assert np.abs(area.astype(int) - fast.rgb).mean() < 4.5
    assert np.corrcoef(area.ravel(), fast.rgb.ravel())[0, 1] > 0.97
    assert fast.facts.jpeg_quality == full.facts.jpeg_quality


def test_fast_decode_of_a_png_is_exactly_area_averaging(tmp_path: Path) -> None:
    rgb = photo("chelsea")
    path = write_rgb(tmp_path / "c.png", rgb)
    fast = read_image(path, fit=FAST)
    size = fit_size(rgb.shape[1], rgb.shape[0], *FAST)
    assert np.array_equal(fast.rgb, cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


def test_fast_decode_of_a_grey_jpeg_keeps_one_channel(tmp_path: Path) -> None:
    grey = photo("camera")
    path = tmp_path / "grey.jpg"
    cv2.imwrite(str(path), grey, [cv2.IMWRITE_JPEG_QUALITY, 90])
    fast = read_image(path, fit=FAST)
    assert fast.facts.channels == 1 and fast.rgb.shape[2] == 3
    assert np.array_equal(fast.rgb[..., 0], fast.rgb[..., 2])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_fast_decode_applies_exif_orientation(tmp_path: Path, orientation: int) -> None:
    # a 400x200 photo whose top-left quarter is white, stored rotated with an EXIF tag
    upright = np.zeros((200, 400, 3), np.uint8)
    upright[:100, :200] = 255
    stored = {3: upright[::-1, ::-1], 6: np.rot90(upright, 1), 8: np.rot90(upright, -1)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=95, exif=exif.tobytes())
    fast = read_image(path, fit=FAST)
    assert (fast.facts.width, fast.facts.height) == (400, 200)
    h, w = fast.rgb.shape[:2]
    assert (w, h) == fit_size(400, 200, *FAST)
    assert fast.rgb[: h // 2 - 1, : w // 2 - 1].mean() > 200
    assert fast.rgb[h // 2 + 1 :, w // 2 + 1 :].mean() < 50


@pytest.fixture(scope="module")
def tables(jpegs) -> dict[str, pd.DataFrame]:
    paths = [str(p) for p in jpegs.values()]
    return {name: featrisk.extract(paths, profile=name) for name in PROFILES}


def test_extract_records_the_profile_and_the_native_size(tables) -> None:
    default, fast = tables["default"], tables["fast"]
    assert profile_of(default) == "default" and profile_of(fast) == "fast"
    assert fast["error"].isna().all() and np.isfinite(fast[FEATURES].to_numpy()).all()
    geometry = [c for c in FEATURES if c.startswith("geometry_")]
    np.testing.assert_array_equal(fast[geometry].to_numpy(), default[geometry].to_numpy())
    # the measures of detail see the small image: a sharpness column must differ
    assert not np.allclose(fast["blur_laplacian_var"], default["blur_laplacian_var"])


def test_fast_profile_is_identical_across_workers(jpegs, tables) -> None:
    paths = [str(p) for p in jpegs.values()] * 3
    parallel = featrisk.extract(paths, profile="fast", n_jobs=2)
    expected = pd.concat([tables["fast"]] * 3, ignore_index=True)
    pd.testing.assert_frame_equal(parallel[FEATURES], expected[FEATURES])


def test_profiles_are_public() -> None:
    assert featrisk.PROFILES is PROFILES and set(PROFILES) == {"default", "fast"}
    assert PROFILES["default"].fit is None and PROFILES["fast"].fit == (40, 400)


def test_unknown_profile_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="profile must be one of 'default', 'fast'"):
        featrisk.extract(["does-not-matter.jpg"], profile="tiny")
    with pytest.raises(ValueError, match="got 'tiny'"):
        get_profile("tiny")


def _toy_fit(table: pd.DataFrame, **params) -> featrisk.RiskModel:
    rng = np.random.default_rng(0)
    big = pd.concat([table] * 30, ignore_index=True)
    big[FEATURES] = big[FEATURES] * rng.uniform(0.8, 1.2, size=(len(big), len(FEATURES)))
    big.attrs = dict(table.attrs)
    correct = big["blur_laplacian_var"].to_numpy() > np.median(big["blur_laplacian_var"])
    return featrisk.fit(big, correct, cv=3, n_estimators=20, degradation=None, **params)


def test_a_model_reads_only_its_own_profile(tables, jpegs, tmp_path: Path) -> None:
    model = _toy_fit(tables["fast"])
    assert model.profile == "fast"
    assert model.predict_risk(tables["fast"]).shape == (len(tables["fast"]),)
    with pytest.raises(SchemaError, match="profile 'default', the model reads profile 'fast'"):
        model.predict_risk(tables["default"])
    # paths are extracted with the model's profile, also after a save and load
    loaded = featrisk.load(model.save(tmp_path / "fast.json"))
    assert loaded.profile == "fast"
    scored = featrisk.predict([str(p) for p in jpegs.values()], loaded)
    np.testing.assert_allclose(scored["risk"], model.predict_risk(tables["fast"]))
    with pytest.raises(ValueError, match="profile='default' but the model reads profile 'fast'"):
        featrisk.predict(tables["fast"], loaded, profile="default")
    with pytest.raises(SchemaError, match="profile 'fast', the model reads profile 'default'"):
        featrisk.RiskModel(degradation=None).fit(tables["fast"], [True, False, True, False])


def test_streamed_file_records_the_profile_and_resumes_per_profile(jpegs, tables,
                                                                  tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    paths = [str(p) for p in jpegs.values()]
    out = tmp_path / "fast.parquet"
    summary = extract_to_file(paths, out, profile="fast")
    assert pq.read_schema(out).metadata[b"featrisk_profile"] == b"fast"
    written = pd.read_parquet(out)
    np.testing.assert_allclose(written[FEATURES].to_numpy(), tables["fast"][FEATURES].to_numpy())
    assert summary["extracted"] == len(paths)


def test_cli_extract_fit_predict_with_the_fast_profile(jpegs, tables, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    paths = [str(p) for p in jpegs.values()]
    assert main(["extract", *paths, "--profile", "fast", "-o", str(tmp_path / "f.parquet"),
                 "--quiet"]) == 0
    model = _toy_fit(tables["fast"]).save(tmp_path / "m.json")
    # predict extracts with the model's profile, and reads the table's recorded profile
    assert main(["predict", *paths, "-m", str(model), "-o", str(tmp_path / "a.csv"),
                 "--quiet"]) == 0
    assert main(["predict", "--features", str(tmp_path / "f.parquet"), "-m", str(model),
                 "-o", str(tmp_path / "b.csv"), "--quiet"]) == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    np.testing.assert_allclose(a["risk"], b["risk"])
    assert main(["extract", *paths, "-o", str(tmp_path / "d.parquet"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", "--features", str(tmp_path / "d.parquet"), "-m", str(model),
                 "-o", str(tmp_path / "c.csv"), "--quiet"]) == 3
    assert "extracted with profile 'default', the model reads profile 'fast'" in (
        capsys.readouterr().err)
    assert not (tmp_path / "c.csv").exists()


def test_shipped_fast_model_scores_fast_tables_and_paths(jpegs, tables) -> None:
    # model=None picks the default model of the table's profile, or of profile= for paths
    from_table = featrisk.predict(tables["fast"])
    from_paths = featrisk.predict([str(p) for p in jpegs.values()], profile="fast")
    assert from_table["risk"].between(0, 1).all() and from_table["error"].isna().all()
    np.testing.assert_allclose(from_table["risk"], from_paths["risk"])
    assert featrisk.load(featrisk.default_model_path("fast")).profile == "fast"
    # the two profiles' default models are different models of different features
    default = featrisk.predict(tables["default"])
    assert not np.allclose(default["risk"], from_table["risk"])


def test_images_under_the_fast_size_give_identical_features(tmp_path: Path) -> None:
    # a 32 px image is neither shrunk nor decoded at reduced scale: same row in both profiles
    small = cv2.resize(photo("chelsea"), (32, 32), interpolation=cv2.INTER_AREA)
    paths = [str(write_rgb(tmp_path / "s.jpg", small)), str(write_rgb(tmp_path / "s.png", small))]
    default, fast = featrisk.extract(paths), featrisk.extract(paths, profile="fast")
    np.testing.assert_array_equal(default[FEATURES].to_numpy(), fast[FEATURES].to_numpy())


def test_report_names_the_profile(tables, tmp_path: Path) -> None:
    from featrisk.report import report

    model = _toy_fit(tables["fast"])
    out = tmp_path / "r.html"
    summary = report(model, tables["fast"], [True, False, True, False], out=out, images=False,
                     n_boot=20)
    assert summary["profile"] == "fast"
    assert "fast extraction profile" in out.read_text(encoding="utf-8")
