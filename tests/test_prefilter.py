"""featrisk.Prefilter: one load, batches of any input, the items to keep, shared by threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd
import pytest

import featrisk
from featrisk.io import read_image
from tests.conftest import photo


@pytest.fixture(scope="module")
def batch(photo_paths) -> list:
    """Mixed items: paths, bytes, arrays (one of them heavily blurred), junk bytes."""
    rgb = [read_image(p).rgb for p in photo_paths]
    blurred = cv2.GaussianBlur(photo("coffee"), (0, 0), 6)
    return [*photo_paths, photo_paths[0].read_bytes(), *rgb, blurred, b"not an image"]


def test_filter_keeps_the_readable_unflagged_items(batch) -> None:
    prefilter = featrisk.Prefilter(flag_rate=0.3)
    assert prefilter.threshold == featrisk.load(featrisk.default_model_path()).threshold_for(
        flag_rate=0.3)
    out = prefilter.filter(batch)
    expected = featrisk.predict(batch, flag_rate=0.3, top_reasons=0)
    pd.testing.assert_frame_equal(out.table, expected)
    assert out.keep.tolist() == (~expected["flagged"]).tolist()
    assert not out.keep[-1] and out.table["error"].iloc[-1].startswith("<bytes #")
    assert len(out.items) == out.keep.sum()
    assert [i for i, k in enumerate(out.keep) if k] == [
        next(j for j, x in enumerate(batch) if x is item) for item in out.items]
    assert (out.table["reasons"] == "").all()


def test_threads_share_one_prefilter_and_get_serial_results(batch) -> None:
    prefilter = featrisk.Prefilter(target_accuracy=0.9, top_reasons=2)
    serial = [prefilter.score(batch[i::3]) for i in range(3)] * 4
    before = cv2.getNumThreads()
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(prefilter.score, [batch[i::3] for i in range(3)] * 4))
    for a, b in zip(serial, threaded, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert cv2.getNumThreads() == before  # the last thread out restored OpenCV's pool


def test_stricter_settings_keep_fewer(batch) -> None:
    loose = featrisk.Prefilter(flag_rate=0.05).filter(batch).keep.sum()
    strict = featrisk.Prefilter(flag_rate=0.6).filter(batch).keep.sum()
    assert strict <= loose
    assert featrisk.Prefilter(flag_rate=0.6).threshold < featrisk.Prefilter(flag_rate=0.05).threshold


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"flag_rate": 0.1, "target_accuracy": 0.9}, "not both"),
    ({"channel_order": "RBG"}, "channel_order"),
    ({"top_reasons": -1}, "top_reasons"),
    ({"atypicality_threshold": 1.5}, "atypicality_threshold"),
])
def test_bad_settings_fail_at_construction(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        featrisk.Prefilter(**kwargs)


def test_arrays_batch_and_mask_index_the_same_images(batch) -> None:
    arrays = np.stack([cv2.resize(x, (128, 96)) for x in batch[5:10]])
    out = featrisk.Prefilter(flag_rate=0.5)(arrays)
    assert out.table["path"].tolist() == [f"<array #{i}>" for i in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(out.items, arrays[out.keep], strict=True))
