"""In-memory inputs: bytes, arrays and PIL images give the file route's features, bad ones a row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import featrisk
from featrisk.schema import FILE_COLUMNS
from tests.conftest import photo, write_rgb

PIXEL_COLUMNS = [c for c in featrisk.FEATURE_COLUMNS if c not in FILE_COLUMNS]


@pytest.fixture(scope="module")
def chelsea_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("inputs")
    rgb = photo("chelsea")
    return write_rgb(folder / "chelsea.png", rgb), rgb


def _same(a: pd.Series, b: pd.Series) -> bool:
    return bool(np.array_equal(a.to_numpy(float), b.to_numpy(float), equal_nan=True))


@pytest.mark.parametrize("profile", ["default", "fast"])
def test_every_route_gives_the_same_pixels_the_same_features(chelsea_png, profile) -> None:
    path, rgb = chelsea_png
    data = path.read_bytes()
    items = [path, data, bytearray(data), memoryview(data), rgb, Image.fromarray(rgb),
             np.ascontiguousarray(rgb[:, :, ::-1])]
    table = featrisk.extract(items, profile=profile)
    assert table["error"].isna().all()
    assert list(table["path"]) == [str(path), "<bytes #1>", "<bytes #2>", "<bytes #3>",
                                   "<array #4>", "<PIL image #5>", "<array #6>"]
    cols = list(featrisk.FEATURE_COLUMNS)
    for i in (1, 2, 3):  # encoded bytes: the file's every column, file facts included
        assert _same(table.loc[0, cols], table.loc[i, cols])
    assert _same(table.loc[0, PIXEL_COLUMNS], table.loc[4, PIXEL_COLUMNS])
    assert _same(table.loc[4, cols], table.loc[5, cols])
    # the reversed array is another image in RGB order ...
    assert not _same(table.loc[4, PIXEL_COLUMNS], table.loc[6, PIXEL_COLUMNS])
    # ... and the same image when declared BGR
    bgr = featrisk.extract(np.ascontiguousarray(rgb[:, :, ::-1]), profile=profile,
                           channel_order="BGR")
    assert _same(bgr.loc[0, cols], table.loc[4, cols])


def test_jpeg_bytes_match_the_file_and_arrays_describe_no_file(photo_paths) -> None:
    path = photo_paths[0]
    decoded = featrisk.extract(path)
    from featrisk.io import read_image

    rgb = read_image(path).rgb
    table = featrisk.extract([path.read_bytes(), rgb])
    cols = list(featrisk.FEATURE_COLUMNS)
    assert _same(table.loc[0, cols], decoded.loc[0, cols])
    assert _same(table.loc[1, PIXEL_COLUMNS], decoded.loc[0, PIXEL_COLUMNS])
    assert decoded.loc[0, "geometry_format_jpeg"] == 1 and decoded.loc[0, "jpeg_quality"] < 100
    # an array has no file: its file facts are unknown, and the row is still a good row
    assert table.loc[1, list(FILE_COLUMNS)].isna().all() and table["error"].isna().all()


def test_a_model_fills_unknown_file_facts_with_its_typical_file(photo_paths, tmp_path) -> None:
    from featrisk.io import read_image

    model = featrisk.load(featrisk.default_model_path())
    assert set(model.file_fill_) == set(FILE_COLUMNS)  # read from the file's quantiles
    rgb = [read_image(p).rgb for p in photo_paths]
    seen = model.inputs(featrisk.extract(rgb))
    for col, value in model.file_fill_.items():
        assert (seen[col] == value).all()
    risk = featrisk.predict(rgb)
    assert risk["error"].isna().all() and risk["risk"].between(0, 1).all()


def test_fitting_on_files_and_arrays_fills_from_the_files(demo_set, tmp_path) -> None:
    from featrisk.model import file_fill_values

    _, features, outcomes = demo_set
    as_arrays = features.copy()  # the same images given as arrays: no file facts
    as_arrays.loc[1::2, list(FILE_COLUMNS)] = np.nan
    fitted = featrisk.fit(as_arrays, outcomes["correct"].to_numpy(), groups=outcomes["crop"].to_numpy())
    assert fitted.file_fill_ == file_fill_values(features.iloc[::2])
    again = featrisk.load(fitted.save(tmp_path / "m.json"))
    assert again.file_fill_ == fitted.file_fill_
    np.testing.assert_array_equal(again.predict_risk(as_arrays), fitted.predict_risk(as_arrays))


def test_grey_rgba_and_batches_of_arrays(chelsea_png) -> None:
    _, rgb = chelsea_png
    grey = rgb[:, :, 1]
    rgba = np.dstack([rgb, np.full(grey.shape, 128, np.uint8)])
    batch = np.stack([rgb, rgb[::-1]])
    table = featrisk.extract([grey, grey[:, :, None], rgba])
    assert table["error"].isna().all()
    assert _same(table.loc[0, PIXEL_COLUMNS], table.loc[1, PIXEL_COLUMNS])
    assert table.loc[0, "geometry_is_grey"] == 1 and table.loc[2, "geometry_is_grey"] == 0
    four_d = featrisk.extract(batch)
    assert list(four_d["path"]) == ["<array #0>", "<array #1>"]
    assert _same(four_d.loc[0, PIXEL_COLUMNS], featrisk.extract(rgb).loc[0, PIXEL_COLUMNS])


@pytest.mark.parametrize(("item", "reason"), [
    (np.zeros((3, 64, 64), np.uint8), "looks channels-first"),
    (np.zeros((64, 64, 3), np.float32), "dtype float32"),
    (np.zeros((64, 64, 2), np.uint8), "shape (64, 64, 2)"),
    (np.zeros((1, 64, 3), np.uint8), "too small to measure"),
    (b"", "empty byte string"),
    (b"<html><body>", "not an image"),
    (12, "not an image but a int"),
])
def test_a_bad_item_becomes_a_row_naming_its_position(chelsea_png, item, reason) -> None:
    path, rgb = chelsea_png
    table = featrisk.extract([rgb, item, path])
    assert table.loc[[0, 2], "error"].isna().all()
    error = table.loc[1, "error"]
    assert error.startswith(f"{table.loc[1, 'path']}:") and "#1" in error
    assert reason in error
    assert table.loc[1, list(featrisk.FEATURE_COLUMNS)].isna().all()


def test_workers_keep_order_and_names_of_mixed_items(chelsea_png, photo_paths) -> None:
    path, rgb = chelsea_png
    items = [rgb, path.read_bytes(), *photo_paths, Image.fromarray(rgb), b"junk"] * 3
    one = featrisk.extract(items)
    two = featrisk.extract(items, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert one.loc[len(items) - 1, "path"] == f"<bytes #{len(items) - 1}>"


def test_predict_scores_in_memory_items_as_their_file(chelsea_png) -> None:
    path, rgb = chelsea_png
    out = featrisk.predict([path, path.read_bytes(), Image.open(path)])
    assert out["error"].isna().all()
    assert out.loc[0, "risk"] == out.loc[1, "risk"]
    with pytest.raises(ValueError, match="channel_order"):
        featrisk.extract(rgb, channel_order="rgb")
    with pytest.raises(TypeError, match="feature table"):
        featrisk.extract(pd.DataFrame({"path": [str(path)]}))
