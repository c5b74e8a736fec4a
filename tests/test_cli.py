"""CLI round trip on the demo set's real outcomes: extract -> fit -> predict, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import featrisk
from featrisk.cli import main


@pytest.fixture(scope="module")
def labelled(demo_set):
    folder, _, outcomes = demo_set
    keep = outcomes.groupby("crop").head(12).index  # a few hundred images keep it quick
    labels = outcomes.loc[keep, ["path", "correct", "crop"]]
    labels["path"] = [str(Path(p).relative_to(folder)) for p in labels["path"]]
    labels.to_csv(folder / "labels.csv", index=False)
    return folder, labels


def test_extract_fit_predict_round_trip(labelled, capsys) -> None:
    folder, labels = labelled
    images = [str(folder / p) for p in labels["path"]]
    (folder / "list.txt").write_text("\n".join(images))
    assert main(["extract", "--list", str(folder / "list.txt"), "-o", str(folder / "f.parquet"),
                 "--quiet"]) == 0
    table = pd.read_parquet(folder / "f.parquet")
    assert table["path"].tolist() == images
    assert main(["fit", "--labels", str(folder / "labels.csv"), "--features",
                 str(folder / "f.parquet"), "--groups", "crop", "-o", str(folder / "m.json")]) == 0
    assert "out-of-fold AUROC" in capsys.readouterr().out
    assert featrisk.load(folder / "m.json").training_summary_["denoise"] == 0.0
    assert main(["predict", "--features", str(folder / "f.parquet"), "-m", str(folder / "m.json"),
                 "--flag-rate", "0.2", "-o", str(folder / "risk.csv")]) == 0
    risk = pd.read_csv(folder / "risk.csv")
    assert risk["path"].tolist() == images
    assert risk["flagged"].mean() >= 0.2  # in-sample risks run higher than out-of-fold ones
    api = featrisk.predict(images, featrisk.load(folder / "m.json"), flag_rate=0.2)
    pd.testing.assert_series_equal(risk["risk"], api["risk"], check_exact=False, rtol=1e-12)


def test_hybrid_stack_fit_and_predict_with_an_extra_table(labelled, demo_set, capsys) -> None:
    folder, labels = labelled
    outcomes = demo_set[2].set_index("path")
    images = [str(folder / p) for p in labels["path"]]
    table = labels.assign(softmax_max_prob=outcomes.loc[images, "max_prob"].to_numpy())
    table.to_csv(folder / "labels_softmax.csv", index=False)  # relative paths, as fit reads
    assert main(["fit", "--labels", str(folder / "labels_softmax.csv"), "--groups", "crop",
                 "--extra", "softmax_max_prob", "--hybrid", "stack", "-o",
                 str(folder / "hybrid.json"), "--quiet"]) == 0
    model = featrisk.load(folder / "hybrid.json")
    assert model.hybrid_ is not None and "softmax_max_prob" not in model.feature_names_
    # predict takes the softmax of the images to score from a table joined on path
    args = ["predict", *images[:40], "-m", str(folder / "hybrid.json"), "--quiet", "-o"]
    assert main([*args, str(folder / "h.csv"), "--extra", str(folder / "labels_softmax.csv")]) == 0
    risk = pd.read_csv(folder / "h.csv")
    extra = pd.DataFrame({"softmax_max_prob": outcomes.loc[images[:40], "max_prob"].to_numpy()})
    api = featrisk.predict(images[:40], model, extra=extra)
    pd.testing.assert_series_equal(risk["risk"], api["risk"], check_exact=False, rtol=1e-12)
    capsys.readouterr()
    # without the table the model cannot score, and says which column is missing
    assert main([*args, str(folder / "h2.csv")]) == 2
    assert "reads column(s) softmax_max_prob beside the images; pass --extra" in capsys.readouterr().err
    (folder / "partial.csv").write_text(table.head(5).to_csv(index=False))
    assert main([*args, str(folder / "h3.csv"), "--extra", str(folder / "partial.csv")]) == 2
    assert "no row for 35 image(s)" in capsys.readouterr().err


def test_fit_extracts_when_no_features_given(labelled) -> None:
    folder, labels = labelled
    out = folder / "m2.json"
    assert main(["fit", "--labels", str(folder / "labels.csv"), "--groups", "crop", "-o", str(out),
                 "--quiet"]) == 0
    assert featrisk.load(out).training_summary_["n_images"] == len(labels)


def test_list_takes_a_labels_table_or_lines(labelled, capsys) -> None:
    """--list reads a CSV's 'path' column (relative to its folder, as --labels does) instead
    of taking its lines, header included, for file names."""
    folder, labels = labelled
    assert main(["extract", "--list", str(folder / "labels.csv"), "-o", str(folder / "t.csv"),
                 "--quiet"]) == 0
    table = pd.read_csv(folder / "t.csv")
    assert table["path"].tolist() == [str(folder / p) for p in labels["path"]]
    assert table["error"].isna().all()


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("absent.txt", None, "list file not found"),
    ("absent.csv", None, "table not found"),
    ("latin1.txt", "caf\xe9.jpg\n".encode("latin-1"), "cannot read the list file as UTF-8"),
    ("nopath.csv", b"file,correct\na.jpg,1\n", "needs a 'path' column"),
])
def test_bad_list_file_is_a_usage_error(tmp_path: Path, capsys, name, content, reason) -> None:
    listing = tmp_path / name
    if content is not None:
        listing.write_bytes(content)
    code = main(["extract", "--list", str(listing), "-o", str(tmp_path / "f.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and reason in err and name in err
    assert not (tmp_path / "f.csv").exists()


def test_refuses_to_overwrite(labelled, capsys) -> None:
    folder, _ = labelled
    target = folder / "exists.csv"
    target.write_text("keep me")
    code = main(["extract", str(folder / "images"), "-o", str(target), "--quiet"])
    assert code == 2 and "--overwrite" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_exit_codes_for_errors(tmp_path: Path, capsys) -> None:
    assert main(["predict", str(tmp_path), "-o", str(tmp_path / "r.csv")]) == 4
    bad_model = tmp_path / "m.json"
    bad_model.write_text("{}")
    img = tmp_path / "x.png"
    img.write_bytes(b"<html>")
    assert main(["predict", str(img), "-m", str(bad_model), "-o", str(tmp_path / "r.csv"),
                 "--quiet"]) == 3
    assert "not a featrisk model" in capsys.readouterr().err
    labels = tmp_path / "l.csv"
    labels.write_text("path,label\nx.png,1\n")
    assert main(["fit", "--labels", str(labels), "-o", str(tmp_path / "m2.json")]) == 2


@pytest.mark.parametrize("command", ["extract", "fit", "predict", "demo"])
def test_help_runs(command: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "featrisk.cli", command, "--help"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "usage: featrisk" in proc.stdout


@pytest.mark.parametrize(("value", "code"), [("0.5", 0), ("1", 2), ("-0.2", 2)])
def test_fit_denoise_flag(labelled, value, code, capsys) -> None:
    folder, _ = labelled
    out = folder / f"denoise{value}.json"
    assert main(["fit", "--labels", str(folder / "labels.csv"), "--groups", "crop", "--cv", "3",
                 "--denoise", value, "-o", str(out), "--quiet"]) == code
    if code == 0:
        assert featrisk.load(out).training_summary_["denoise"] == 0.5
        assert "teacher weight 0.5" in capsys.readouterr().out
    else:
        assert "--denoise must be in [0, 1)" in capsys.readouterr().err
