"""Feature extraction: schema, determinism, one decode, and documented directions under
real degradations of real photos."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import PHOTOS, photo, write_rgb

import featrisk
import featrisk.io
from featrisk import degrade
from featrisk.schema import FEATURE_COLUMNS, feature_docs

#: The module featrisk.extract (the package attribute of that name is the function).
EXTRACT_MODULE = sys.modules["featrisk.extract"]
SCHEMA_FILE = Path(__file__).parent / "data" / "feature_columns_v4.txt"


def test_schema_snapshot() -> None:
    pinned = SCHEMA_FILE.read_text().split()
    assert list(FEATURE_COLUMNS) == pinned, "a column changed: bump SCHEMA_VERSION and the snapshot"
    assert featrisk.SCHEMA_VERSION == "4"


def test_every_column_documented() -> None:
    docs = feature_docs()
    assert list(docs.index) == list(FEATURE_COLUMNS)
    assert set(docs["worse"]) <= {"lower", "higher", "both", "none"}
    assert (docs["doc"].str.len() > 10).all() and (docs["unit"].str.len() > 0).all()
    assert (docs["low"].str.len() > 0).all() and (docs["low"] != docs["high"]).all()
    for name in FEATURE_COLUMNS:
        family, _, rest = name.partition("_")
        assert rest and name == name.lower(), name
        assert family in {"geometry", "blur", "exposure", "contrast", "noise", "jpeg", "edges",
                          "color", "occlusion", "nss", "warp", "overlay"}


def test_extract_table_shape_order_and_types(photo_paths: list[Path]) -> None:
    paths = [*photo_paths, photo_paths[0]]
    table = featrisk.extract(paths)
    assert list(table.columns) == ["path", *FEATURE_COLUMNS, "error"]
    assert table["path"].tolist() == [str(p) for p in paths]
    assert table["error"].isna().all()
    values = table[list(FEATURE_COLUMNS)].to_numpy()
    assert values.dtype == np.float64 and np.isfinite(values).all()
    assert table.iloc[0, 1:-1].equals(table.iloc[-1, 1:-1])


def test_deterministic_and_parallel_identical(photo_paths: list[Path]) -> None:
    one = featrisk.extract(photo_paths * 20)
    again = featrisk.extract(photo_paths * 20)
    par = featrisk.extract(photo_paths * 20, n_jobs=2)
    pd.testing.assert_frame_equal(one, again)
    pd.testing.assert_frame_equal(one, par)


def test_one_decode_per_image(monkeypatch: pytest.MonkeyPatch, photo_paths: list[Path]) -> None:
    calls: list[int] = []
    real = cv2.imdecode

    def counting(buf, flags):  # noqa: ANN001, ANN202
        calls.append(1)
        return real(buf, flags)

    monkeypatch.setattr(featrisk.io.cv2, "imdecode", counting)
    monkeypatch.setattr(cv2, "imread", lambda *a, **k: pytest.fail("second decoder used"))
    featrisk.extract(photo_paths)
    assert len(calls) == len(photo_paths)


def test_bad_rows_do_not_disturb_good_ones(tmp_path: Path, photo_paths: list[Path]) -> None:
    html = tmp_path / "page.jpg"
    html.write_text("<html>not found</html>")
    mixed = featrisk.extract([photo_paths[0], html, tmp_path / "missing.png", photo_paths[1]])
    alone = featrisk.extract([photo_paths[0], photo_paths[1]])
    assert mixed["error"].notna().tolist() == [False, True, True, False]
    assert mixed.loc[1, list(FEATURE_COLUMNS)].isna().all()
    assert "not an image" in mixed.loc[1, "error"] and "file not found" in mixed.loc[2, "error"]
    pd.testing.assert_frame_equal(mixed.iloc[[0, 3]].reset_index(drop=True), alone)


@pytest.mark.parametrize(("images", "nbytes"), [(1, 10**12), (3, 10**12), (128, 1)],
                         ids=["one-image", "three-images", "byte-budget"])
def test_batch_limits_do_not_change_values(monkeypatch: pytest.MonkeyPatch,
                                           photo_paths: list[Path], images: int,
                                           nbytes: int) -> None:
    paths = photo_paths * 3
    whole = featrisk.extract(paths)
    monkeypatch.setattr(EXTRACT_MODULE, "BATCH_IMAGES", images)
    monkeypatch.setattr(EXTRACT_MODULE, "BATCH_BYTES", nbytes)
    pd.testing.assert_frame_equal(featrisk.extract(paths), whole)


def test_family_failing_on_one_image_fails_only_its_row(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path,
                                                         photo_paths: list[Path]) -> None:
    from featrisk.features import color

    odd = write_rgb(tmp_path / "odd.png", cv2.resize(photo("coffee"), (97, 61)))
    real = color.compute

    def fussy(ctx):  # noqa: ANN001, ANN202 - a family that fails on one image size only
        if ctx.native_rgb.shape[:2] == (61, 97):
            raise cv2.error("synthetic failure")
        return real(ctx)

    paths = [photo_paths[0], odd, photo_paths[1]]
    alone = featrisk.extract([photo_paths[0], photo_paths[1]])
    monkeypatch.setattr(color, "compute", fussy)
    mixed = featrisk.extract(paths)
    assert mixed["error"].notna().tolist() == [False, True, False]
    assert str(odd) in mixed.loc[1, "error"] and "feature computation failed" in mixed.loc[1, "error"]
    assert mixed.loc[1, list(FEATURE_COLUMNS)].isna().all()
    pd.testing.assert_frame_equal(mixed.iloc[[0, 2]].reset_index(drop=True), alone)


@pytest.mark.parametrize(
    "shape", [(8, 8), (32, 32), (17, 300), (2000, 3000)], ids=["8px", "cifar32", "strip", "6mp"]
)
@pytest.mark.parametrize("content", ["photo", "black", "white", "grey"], ids=str)
def test_degenerate_and_sized_images_are_finite(tmp_path: Path, shape: tuple[int, int],
                                                content: str) -> None:
    h, w = shape
    if content == "photo":
        rgb = cv2.resize(photo("coffee"), (w, h), interpolation=cv2.INTER_AREA)
    else:
        rgb = np.full((h, w, 3), {"black": 0, "white": 255, "grey": 128}[content], np.uint8)
    table = featrisk.extract([write_rgb(tmp_path / "x.png", rgb)])
    assert table["error"].isna().all(), table["error"].iloc[0]
    assert np.isfinite(table[list(FEATURE_COLUMNS)].to_numpy()).all()


def test_table_is_consolidated_for_users_to_add_columns(tmp_path: Path) -> None:
    # 108 float columns built one by one would give pandas 100+ blocks, and every column a
    # user adds afterwards would raise a PerformanceWarning
    paths = [write_rgb(tmp_path / f"{n}.png", photo(n)) for n in PHOTOS[:2]]
    table = featrisk.extract([*paths, tmp_path / "missing.png"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table["label"] = [1, 0, 1]
        table["score"] = table["blur_laplacian_var"] * 2
    assert table["error"].iloc[:2].isna().all() and "missing.png" in table["error"].iloc[2]
    assert table[list(FEATURE_COLUMNS)].dtypes.eq(np.float64).all()


# -- documented directions under real degradations -----------------------------------------

def _flat_patch(rgb: np.ndarray, severity: int) -> np.ndarray:
    """Occlude the centre with a flat grey square covering 6% x severity of the area."""
    out = rgb.copy()
    h, w = rgb.shape[:2]
    side = np.sqrt(0.06 * severity * h * w)
    top, left = int((h - side) / 2), int((w - side) / 2)
    out[top : top + int(side), left : left + int(side)] = 118
    return out


DIRECTIONS = [
    # (degradation, feature, +1 rises / -1 falls with severity)
    ("gaussian_blur", "blur_laplacian_var", -1),
    ("gaussian_blur", "blur_hf_share", -1),
    ("gaussian_blur", "blur_tenengrad", -1),
    ("gaussian_blur", "blur_tile_max", -1),
    ("motion_blur", "blur_laplacian_var", -1),
    ("motion_blur", "edges_grad_mean", -1),
    ("gaussian_blur", "blur_edge_ratio_quarter", +1),
    ("motion_blur", "blur_edge_ratio_eighth_max", +1),
    ("gaussian_noise", "noise_sigma_luma", +1),
    ("gaussian_noise", "noise_sigma_flat", +1),
    ("shot_noise", "noise_sigma_luma", +1),
    ("salt_pepper", "noise_impulse_frac", +1),
    ("jpeg", "jpeg_blockiness", +1),
    ("underexposure", "exposure_mean", -1),
    ("underexposure", "exposure_p95", -1),
    ("overexposure", "exposure_mean", +1),
    ("overexposure", "exposure_bright_frac", +1),
    ("contrast", "contrast_rms", -1),
    ("contrast", "contrast_range_p5_p95", -1),
    ("contrast", "contrast_local_mean", -1),
    ("haze", "contrast_rms", -1),
    ("vignette", "exposure_mean", -1),
    ("flat_patch", "occlusion_flat_region_share", +1),
    ("flat_patch", "occlusion_textureless_tile_share", +1),
    ("fog", "overlay_veil", +1),
    ("haze", "overlay_veil", +1),
    ("snow", "overlay_speck_share", +1),
    ("posterize", "overlay_level_gaps", +1),
]


@pytest.fixture(scope="module")
def degraded_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], pd.DataFrame]:
    """Features of each photo clean (severity 0) and degraded at severities 1-5, as PNG."""
    folder = tmp_path_factory.mktemp("degraded")
    families = sorted({d for d, _, _ in DIRECTIONS})
    paths, keys = [], []
    for name in PHOTOS:
        rgb = photo(name)
        for fam in families:
            for sev in range(6):
                if fam == "flat_patch":
                    img = _flat_patch(rgb, sev)
                else:
                    img = rgb if sev == 0 else degrade.apply(rgb, fam, sev, seed=1)
                paths.append(write_rgb(folder / f"{name}_{fam}_{sev}.png", img))
                keys.append((name, fam))
    table = featrisk.extract(paths, n_jobs=2)
    table["key"] = keys
    return {k: g.reset_index(drop=True) for k, g in table.groupby("key", sort=False)}


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(("family", "feature", "sign"), DIRECTIONS,
                         ids=[f"{d}-{f}" for d, f, _ in DIRECTIONS])
def test_feature_moves_in_documented_direction(degraded_tables, name: str, family: str,
                                               feature: str, sign: int) -> None:
    if feature == "occlusion_flat_region_share" and name == "rocket":
        pytest.skip("rocket's sky is already one large flat region, which a central patch splits")
    values = degraded_tables[(name, family)][feature].to_numpy()
    steps = np.diff(values) * sign
    assert (steps >= 0).all(), f"{feature} under {family} on {name}: {np.round(values, 4)}"
    assert values[-1] * sign > values[0] * sign
    worse = feature_docs().loc[feature, "worse"]
    if worse in ("lower", "higher"):
        # a degradation that hurts classifiers moves the feature towards its documented worse end
        assert (worse == "higher") == (sign > 0) or family in ("overexposure", "vignette")


@pytest.mark.parametrize("name", PHOTOS)
def test_patch_borders_raise_edge_prominence(degraded_tables, name: str) -> None:
    # not monotone step by step (a growing patch also removes edges), but a patch covering a
    # quarter of the image or more always stands out against the clean photo
    values = degraded_tables[(name, "flat_patch")]["occlusion_edge_prominence"].to_numpy()
    assert (values[4:] > 1.3 * values[0]).all(), np.round(values, 3)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("fill", ["flat", "texture", "image"])
def test_patch_share_grows_with_the_covered_area(tmp_path: Path, name: str, fill: str) -> None:
    # full-size photos, so the working image is a resize: flat patches read close to their
    # area; noise-like texture and pieces of the photo itself, whose borders are no sharper
    # than their insides in places, only rise above the clean photo
    rgb = photo(name)
    h, w = rgb.shape[:2]
    rng = np.random.default_rng(0)
    cover = {"flat": np.full_like(rgb, 200),
             "texture": rng.integers(0, 256, rgb.shape).astype(np.uint8),
             "image": rgb[::-1, ::-1].copy()}[fill]
    paths = []
    for share in (0.0, 0.05, 0.15, 0.3):
        ph, pw = int(h * np.sqrt(share)), int(w * np.sqrt(share))
        img = rgb.copy()
        top, left = (h - ph) // 3, (w - pw) // 2
        img[top : top + ph, left : left + pw] = cover[top : top + ph, left : left + pw]
        paths.append(write_rgb(tmp_path / f"{share}.png", img))
    values = featrisk.extract(paths)["occlusion_patch_share"].to_numpy()
    assert values[-1] > values[0], np.round(values, 3)
    if fill == "flat":
        assert (np.diff(values) > 0).all(), np.round(values, 3)
        assert 0.1 <= values[-1] <= 0.4, np.round(values, 3)


@pytest.mark.parametrize("name", PHOTOS)
def test_motion_extent_reads_the_blur_length(tmp_path: Path, name: str) -> None:
    # full-size photos: degrade defines motion lengths at a 224 px short side, the working
    # image's, so the extent x 224 should come out near the lengths it applied
    rgb = photo(name)
    paths = [write_rgb(tmp_path / f"{s}.png",
                       rgb if s == 0 else degrade.apply(rgb, "motion_blur", s, seed=3))
             for s in range(6)]
    table = featrisk.extract(paths)
    extent = table["blur_motion_extent"].to_numpy()[1:] * 224
    depth = table["blur_motion_cepstrum"].to_numpy()
    assert (depth[1:] > depth[0]).all(), np.round(depth, 3)
    assert (np.diff(extent) > 0).all(), np.round(extent, 1)
    assert np.allclose(extent, degrade.MOTION_LENGTH, rtol=0.25), np.round(extent, 1)


def test_motion_cepstrum_skips_small_images() -> None:
    from featrisk.features.blur import CEPSTRUM_MIN_SIDE, motion_cepstrum

    assert motion_cepstrum(np.zeros((CEPSTRUM_MIN_SIDE - 1, 200), np.uint8)) == (0.0, 0.0)


def test_patch_borders_on_a_drawn_rectangle() -> None:
    from featrisk.features.occlusion import patch_borders, two_longest_runs

    grey = np.full((100, 200), 100, np.uint8)
    grey[20:60, 50:150] = 160  # 40 x 100 px: a fifth of the area
    share, straight = patch_borders(grey)
    assert share == pytest.approx(0.2, abs=0.01)
    assert straight == pytest.approx(0.5, abs=0.01)
    assert patch_borders(np.full((100, 200), 100, np.uint8)) == (0.0, 0.0)
    assert patch_borders(cv2.GaussianBlur(grey, (0, 0), 3)) == (0.0, 0.0)  # soft edges
    assert two_longest_runs(np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)) == (3, 2)


@pytest.mark.parametrize("name", PHOTOS)
def test_color_cast_moves_mean_chroma(tmp_path: Path, name: str) -> None:
    rgb = photo(name)
    paths = [write_rgb(tmp_path / f"{s}.png", rgb if s == 0 else degrade.apply(rgb, "color_cast", s))
             for s in range(6)]
    table = featrisk.extract(paths)
    ab = table[["color_cast_a", "color_cast_b"]].to_numpy()
    shift = np.hypot(*(ab - ab[0]).T)
    assert (np.diff(shift) > 0).all(), np.round(shift, 2)


@pytest.mark.parametrize("quality", [90, 60, 30, 10], ids=lambda q: f"q{q}")
def test_jpeg_quality_feature_tracks_file_quality(tmp_path: Path, quality: int) -> None:
    path = write_rgb(tmp_path / "c.jpg", photo("chelsea"), quality=quality)
    value = featrisk.extract([path])["jpeg_quality"].iloc[0]
    assert abs(value - quality) <= 1


def test_real_imagenet_photos_all_finite(imagenet_paths: list[Path]) -> None:
    table = featrisk.extract(imagenet_paths[:40], n_jobs=2)
    assert table["error"].isna().all()
    assert np.isfinite(table[list(FEATURE_COLUMNS)].to_numpy()).all()


# -- fast order statistics equal NumPy's -------------------------------------------------------

@pytest.mark.parametrize("name", PHOTOS)
def test_fast_quantiles_equal_numpy_partition_on_real_derivatives(name: str) -> None:
    from featrisk.features._base import quantile, quantile_of_whole

    # the shapes extraction meets: a full photo's working image, and float32 maps with ties
    grey = cv2.cvtColor(photo(name), cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3))
    smooth = cv2.GaussianBlur(grey, (0, 0), 2.0)
    for values in (gx, smooth, gx[::3, ::2].copy(), np.zeros((80, 90), np.float32)):
        flat = values.ravel()
        for q in (0.0, 0.25, 0.5, 0.9, 0.99, 1.0):
            k = min(flat.size - 1, int(q * flat.size))
            expected = float(np.partition(flat, k)[k])
            assert quantile(values, q) == expected
            assert quantile(flat, q) == expected  # NumPy path (1-D input)
            if values is gx:
                assert quantile_of_whole(values, q, 4 * 255 + 1) == expected


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("shape", [(224, 299), (224, 448), (32, 32), (17, 300), (5, 7)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_grid_means_equal_opencv_area_resize(name: str, shape: tuple[int, int]) -> None:
    from featrisk.features._base import grid_means

    grey = cv2.cvtColor(photo(name), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, shape[::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=1)
    for values in (grey, lap * lap):
        for cells in (4, 8, 16):
            size = (min(cells, shape[1]), min(cells, shape[0]))
            expected = cv2.resize(values, size, interpolation=cv2.INTER_AREA).astype(np.float64)
            got = grid_means(values, cells)
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4 * values.max())


#: Measures whose response depends on the scene as much as on the damage: the mean over the
#: photos must move in the documented direction at every severity step.
MEAN_DIRECTIONS = [
    ("elastic", "warp_coherence_ratio", -1),
    ("zoom_blur", "overlay_radial_ratio", +1),
]


@pytest.mark.parametrize(("family", "feature", "sign"), MEAN_DIRECTIONS,
                         ids=[f"{d}-{f}" for d, f, _ in MEAN_DIRECTIONS])
def test_feature_mean_moves_in_documented_direction(tmp_path: Path, family: str, feature: str,
                                                    sign: int) -> None:
    paths = [write_rgb(tmp_path / f"{name}_{sev}.png",
                       photo(name) if sev == 0 else degrade.apply(photo(name), family, sev, seed=1))
             for name in PHOTOS for sev in range(6)]
    values = featrisk.extract(paths, n_jobs=2)[feature].to_numpy().reshape(len(PHOTOS), 6)
    means = values.mean(axis=0)
    assert (np.diff(means) * sign > 0).all(), f"{feature} under {family}: {np.round(values, 3)}"
    assert feature_docs().loc[feature, "worse"] == ("higher" if sign > 0 else "lower")
