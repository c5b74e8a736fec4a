"""featrisk.bench.speed on a handful of files (baselines off: no torch, no CleanVision)."""

from __future__ import annotations

import argparse
import json
import os

import pytest
from conftest import photo, write_rgb

from featrisk.bench.report_md import speed_section
from featrisk.bench.speed import add_speed_parser, list_images, speed_benchmark


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    big, small = tmp_path_factory.mktemp("big"), tmp_path_factory.mktemp("small")
    for name in ("astronaut", "chelsea", "coffee"):
        write_rgb(big / f"{name}.jpg", photo(name))
        write_rgb(small / f"{name}.jpg", photo(name)[::16, ::16].copy())
    (big / "labels.csv").write_text("not an image\n")
    return big, small


def test_list_images_skips_non_images(folders):
    assert [p.rsplit("/", 1)[1] for p in list_images(folders[0], 2)] == ["astronaut.jpg",
                                                                        "chelsea.jpg"]
    with pytest.raises(FileNotFoundError, match="not a folder of images"):
        list_images(folders[0] / "missing", 2)


def test_speed_benchmark_reports_ratios_and_profile(folders):
    result = speed_benchmark(*folders, n=3, repeats=1, classifier=False, cleanvision=False,
                             memory_counts=(4, 12))
    # peak memory of two streamed extractions by the CLI, in a child process each
    assert set(result["peak_rss_mb"]) == {"4", "12"}
    assert all(50 < mb < 5000 for mb in result["peak_rss_mb"].values())
    growth = result["ratios"].pop("memory_growth")
    assert growth == pytest.approx(result["peak_rss_mb"]["12"] / result["peak_rss_mb"]["4"],
                                   rel=0.01)
    assert result["targets"]["memory_growth"] == "<= 1.25"
    per_profile = {"decode_ratio", "cifar_images_per_s_per_core", "array_speedup",
                   "bytes_speedup"}
    assert set(result["ratios"]) == {*per_profile, *(f"fast_{k}" for k in per_profile),
                                     "scaling_efficiency"}
    assert result["ratios"]["array_speedup"] > 0 and result["ratios"]["bytes_speedup"] > 0
    assert 0 < result["ratios"]["scaling_efficiency"] <= 1.5
    assert "scaling_efficiency" not in result["meets_target"]  # no target: shown, not judged
    assert result["ratios"]["decode_ratio"] > 0
    assert result["images_per_s"]["featrisk_cifar"] > 0
    # the fast profile shrinks the 512 px photos before any family runs: it must be faster
    assert result["ratios"]["fast_decode_ratio"] < result["ratios"]["decode_ratio"]
    assert "ncalls" in result["profile"] and "tottime" in result["profile"]
    assert f"{os.cpu_count()} cores" in result["machine"]  # which machine the figures are from
    json.dumps(result)  # serialisable as written by the CLI


def test_speed_section_names_the_machine(folders):
    result = speed_benchmark(*folders, n=2, repeats=1, classifier=False, cleanvision=False,
                             profile=False, memory_counts=None)
    text = "\n".join(speed_section(result))
    assert f"Machine: {result['machine']}" in text
    assert "| fast_decode_ratio |" in text
    assert "| scaling_efficiency |" in text and "n_jobs=-1" in text


def test_cli_subcommand_writes_json(folders, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_speed_parser(parser.add_subparsers(dest="bench_command"))
    out = tmp_path / "speed.json"
    args = parser.parse_args(["speed", "--imagenet", str(folders[0]), "--cifar", str(folders[1]),
                              "--n", "2", "--repeats", "1", "--no-classifier", "--no-cleanvision",
                              "--memory-counts", "2", "3", "--out", str(out)])
    assert args.func(args) == 0
    written = json.loads(out.read_text())
    assert "decode_ratio" in written["ratios"] and "memory_growth" in written["ratios"]
    assert "Peak resident memory" in "\n".join(speed_section(written))
    assert "decode_ratio" in capsys.readouterr().out


def test_peak_memory_is_the_childs_own(folders, tmp_path) -> None:
    import numpy as np

    from featrisk.bench.speed import peak_rss_mb

    ballast = np.ones(100_000_000)  # 800 MB resident in this process, none of it the child's
    files = list_images(folders[1], 3)
    mb, seconds = peak_rss_mb(files, 5, tmp_path)
    assert 50 < mb < 700 and seconds > 0, mb  # the child, not this process's peak
    assert ballast.sum() == 100_000_000
