"""Fuzzing the decoder: mutated bytes of real image files never crash, hang or balloon.

Seeds are scikit-image photos saved as JPEG (baseline and progressive), PNG, GIF, WebP, BMP
and TIFF. Hypothesis mutates them (bit flips, truncations, inserted garbage, header bytes,
spliced and zeroed runs) and every mutant goes through :func:`featrisk.io.read_image` (which
may only raise DecodeError) and :func:`featrisk.extract` (which never raises and returns one
row). Examples are derandomized, so a run is reproducible; the whole test stops drawing new
work after ``BUDGET_S`` seconds so CI time stays fixed, and a hang aborts the run with a
traceback instead of blocking CI.
"""

from __future__ import annotations

import faulthandler
import io
import math
import resource
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import photo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import featrisk
from featrisk.errors import DecodeError
from featrisk.io import read_image
from featrisk.schema import FEATURE_COLUMNS

#: Wall-clock budget of the fuzz loop, seconds; examples drawn after it are skipped.
BUDGET_S = 18.0
#: Longest one read_image + extract call may take, seconds.
PER_CALL_S = 10.0
#: Pixel limit for mutants: a flipped size field may declare up to this many pixels.
FUZZ_MAX_PIXELS = 4_000_000
#: Allowed growth of the process's peak resident memory over the whole fuzz run.
MAX_RSS_GROWTH_MB = 600


def _seeds() -> dict[str, bytes]:
    rgb = cv2.resize(photo("chelsea"), (96, 64), interpolation=cv2.INTER_AREA)
    im = Image.fromarray(rgb)
    out = {}
    for name, fmt, kw in [("jpeg", "JPEG", {"quality": 85}),
                          ("jpeg_progressive", "JPEG", {"quality": 85, "progressive": True}),
                          ("png", "PNG", {}), ("gif", "GIF", {}), ("webp", "WEBP", {"quality": 80}),
                          ("bmp", "BMP", {}), ("tiff", "TIFF", {})]:
        buf = io.BytesIO()
        im.save(buf, format=fmt, **kw)
        out[name] = buf.getvalue()
    return out


SEEDS = _seeds()


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """A seed file with one kind of damage."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    n = len(data)
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "header", "splice", "zero_run"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 16))):
            data[draw(st.integers(0, n - 1))] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, n - 1))]
    elif kind == "insert":
        at = draw(st.integers(0, n))
        data[at:at] = draw(st.binary(min_size=1, max_size=256))
    elif kind == "header":
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, min(n, 96) - 1))] = draw(st.integers(0, 255))
    elif kind == "splice":
        start = draw(st.integers(0, n - 1))
        piece = data[start : start + draw(st.integers(1, 512))]
        at = draw(st.integers(0, n))
        data[at:at] = piece
    else:
        start = draw(st.integers(0, n - 1))
        length = draw(st.integers(1, 256))
        data[start : start + length] = bytes(len(data[start : start + length]))
    return name, kind, bytes(data)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "mutant"


@pytest.fixture(scope="module")
def budget() -> dict[str, float]:
    faulthandler.dump_traceback_later(BUDGET_S * 6, exit=True)  # a hang fails loudly
    state = {"deadline": time.monotonic() + BUDGET_S, "run": 0.0, "skipped": 0.0,
             "rss0": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    yield state
    faulthandler.cancel_dump_traceback_later()


def test_seeds_are_valid_images(fuzz_file: Path) -> None:
    for data in SEEDS.values():
        fuzz_file.write_bytes(data)
        assert read_image(fuzz_file).rgb.shape == (64, 96, 3)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutants())
def test_mutated_files_never_crash_hang_or_balloon(case: tuple[str, str, bytes], fuzz_file: Path,
                                                   budget: dict[str, float]) -> None:
    if time.monotonic() > budget["deadline"]:
        budget["skipped"] += 1
        return
    budget["run"] += 1
    seed, kind, data = case
    fuzz_file.write_bytes(data)
    started = time.perf_counter()
    try:
        decoded = read_image(fuzz_file, max_pixels=FUZZ_MAX_PIXELS)
    except DecodeError as exc:
        assert str(exc).startswith(f"{fuzz_file}: ")
    else:
        assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape[2] == 3
        assert decoded.rgb.shape[0] * decoded.rgb.shape[1] <= FUZZ_MAX_PIXELS
    row = featrisk.extract([fuzz_file], max_pixels=FUZZ_MAX_PIXELS)
    assert len(row) == 1 and row.loc[0, "path"] == str(fuzz_file)
    values = row.loc[0, list(FEATURE_COLUMNS)].to_numpy(dtype=float)
    if row.loc[0, "error"] is None:
        assert np.isfinite(values).all(), (seed, kind)
    else:
        assert np.isnan(values).all() and str(row.loc[0, "error"]).startswith(str(fuzz_file))
    elapsed = time.perf_counter() - started
    assert elapsed < PER_CALL_S, f"{seed}/{kind} mutant took {elapsed:.1f} s"


def test_fuzz_ran_and_memory_stayed_bounded(budget: dict[str, float]) -> None:
    assert budget["run"] >= 50, f"only {budget['run']:.0f} mutants within the budget"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - budget["rss0"]) / 1024
    assert grown_mb < MAX_RSS_GROWTH_MB, f"peak RSS grew {grown_mb:.0f} MB while fuzzing"
    assert not math.isnan(grown_mb)
