"""HTML/JSON report on the demo set's real outcomes (EfficientNet-Lite0 on degraded crops).

A model is fitted on 70% of the demo's pristine crops (with all their variants) and the
report is written for the held-out 30%.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featrisk
from featrisk import metrics, wording
from featrisk.cli import main
from featrisk.report import compute, render, report, write_junit

SECTIONS = [key for key, _ in render.SECTIONS]
HOSTILE = "<img src=x onerror=alert(1)>.jpg"
N_BOOT = 200


@dataclass
class Demo:
    features: pd.DataFrame  # held-out images
    outcomes: pd.DataFrame
    all_features: pd.DataFrame
    all_correct: np.ndarray
    model: featrisk.RiskModel
    folder: Path

    @property
    def correct(self) -> np.ndarray:
        return self.outcomes["correct"].to_numpy(bool)

    @property
    def extra(self) -> pd.DataFrame:
        return pd.DataFrame({"path": self.outcomes["path"],
                             "softmax_max_prob": self.outcomes["max_prob"]})


@pytest.fixture(scope="session")
def demo(demo_set) -> Demo:
    _, features, outcomes = demo_set
    folder = Path(outcomes["path"].iloc[0]).parent
    crops = np.sort(outcomes["crop"].unique())
    held = np.random.default_rng(0).choice(crops, size=round(0.3 * len(crops)), replace=False)
    test = outcomes["crop"].isin(held).to_numpy()
    model = featrisk.fit(features[~test], outcomes.loc[~test, "correct"].to_numpy(bool),
                         groups=outcomes.loc[~test, "crop"].to_numpy(), cv=3, learning_rate=0.1)
    return Demo(features[test].reset_index(drop=True), outcomes[test].reset_index(drop=True),
                features, outcomes["correct"].to_numpy(bool), model, folder)


@pytest.fixture(scope="session")
def built(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    d = report(demo.model, demo.features, demo.correct, out=out, extra=demo.extra,
               target_accuracy=0.7, groups=demo.outcomes["crop"].to_numpy(), n_boot=N_BOOT)
    return out, d


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the ids of sections."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_all_sections_and_json_beside(built) -> None:
    out, d = built
    html = out.read_text(encoding="utf-8")
    ids = [a.get("id") for t, a in tags(html) if t == "section"]
    assert ids == SECTIONS
    assert json.loads(out.with_suffix(".json").read_text()) == d
    assert d["n_images"] == d["n_scored"] > 0
    assert len(d["thresholds"]) == len(compute.FLAG_RATES)
    assert set(d["gallery"]) == {"riskiest", "safest", "surprises"}
    assert all(not r["correct"] for r in d["gallery"]["surprises"])
    assert "log-odds" in html and "better than chance" in d["chance"]


def test_summary_says_whether_the_model_reads_the_classifier(demo: Demo, built,
                                                              tmp_path: Path) -> None:
    """An image-only model is labelled so; a hybrid model's column names what it reads
    beside the image, and the text does not claim it reads only the image."""
    html = built[0].read_text(encoding="utf-8")
    assert built[1]["classifier_inputs"] == []
    assert "featrisk risk (image only)" in html and "featrisk reads only the image" in html
    # fitted on the report's own images: only the labelling is under test here
    hybrid = featrisk.fit(demo.features, demo.correct, extra=demo.extra, cv=3, hybrid="stack",
                          groups=demo.outcomes["crop"].to_numpy(), learning_rate=0.1)
    d = report(hybrid, demo.features, demo.correct, out=tmp_path / "h.html", extra=demo.extra,
               n_boot=50)
    page = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert d["classifier_inputs"] == ["softmax_max_prob"]
    assert "featrisk risk (image + softmax_max_prob)" in page
    assert "reads only the image" not in page and "before the classifier has run" in page
    assert "weighted term of the classifier's own signals it kept (softmax_max_prob)" in page


def test_everything_embedded_no_script(built) -> None:
    html = built[0].read_text(encoding="utf-8")
    found = tags(html)
    assert not [t for t, _ in found if t in ("script", "link", "iframe", "object")]
    sources = [a["src"] for t, a in found if t == "img"]
    assert len(sources) >= 6 + 8  # figures and thumbnails
    assert all(s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in sources)
    assert "http://" not in html and "https://" not in html


def test_gallery_reasons_are_words_with_their_columns(built) -> None:
    """Cards read each reason in words, with its feature column beside it in code type."""
    out, d = built
    html = out.read_text(encoding="utf-8")
    rows = [r for rows in d["gallery"].values() for r in rows if r["reasons"]]
    assert rows
    for r in rows:
        words, names = r["reasons"].split("; "), r["reason_features"].split("; ")
        assert len(words) == len(names)
        for w, c in zip(words, names, strict=True):
            assert c not in w and w.rpartition(" (")[0] in wording.phrases(c), (w, c)
            assert f"<li>{render.e(w)} <code class=col>{render.e(c)}</code></li>" in html
    assert " very low (" not in html and " very high (" not in html
    # a gallery row saved before reason_features existed still shows its words
    card = render._card({"path": "a.jpg", "name": "a.jpg", "risk": 0.5,
                         "reasons": "darker than usual (+0.50)"}, {})
    assert "<li>darker than usual (+0.50)</li>" in card and "<code" not in card


@pytest.mark.parametrize("name", ["auroc", "auprc", "aurc", "ece"])
def test_json_scores_match_metrics(demo: Demo, built, name: str) -> None:
    _, d = built
    risk = featrisk.predict(demo.features, demo.model)["risk"].to_numpy()
    error = (~demo.correct).astype(int)
    expect = metrics.summary(error, risk, groups=demo.outcomes["crop"].to_numpy(), n_boot=N_BOOT,
                             flag_rates=compute.FLAG_RATES)
    assert d["summary"][name] == pytest.approx(expect[name], rel=1e-12)
    assert d["summary"][name]["value"] == pytest.approx(getattr(metrics, name)(error, risk))
    soft = metrics.bootstrap_ci(getattr(metrics, name), error, 1 - demo.outcomes["max_prob"].to_numpy(),
                                n_boot=N_BOOT, groups=demo.outcomes["crop"].to_numpy())
    assert d["max_softmax"][name]["value"] == pytest.approx(soft[0])
    assert (d["max_softmax"][name]["low"], d["max_softmax"][name]["high"]) == pytest.approx(soft[1:])


def test_thresholds_calibration_importance_match(demo: Demo, built) -> None:
    _, d = built
    risk = featrisk.predict(demo.features, demo.model)["risk"].to_numpy()
    error = (~demo.correct).astype(int)
    budget = metrics.budget_table(error, risk, flag_rates=compute.FLAG_RATES)
    got = pd.DataFrame(d["thresholds"])
    for col in ("threshold", "errors_caught", "accepted_accuracy", "flagged_share"):
        np.testing.assert_allclose(got[col], budget[col])
    oof = [demo.model.threshold_for(flag_rate=r) for r in compute.FLAG_RATES]
    np.testing.assert_allclose(got["model_threshold"], oof)
    target = demo.model.threshold_for(target_accuracy=0.7)
    assert d["target"]["threshold"] == pytest.approx(target)
    assert d["target"]["flagged_share"] == pytest.approx(np.mean(risk >= target))
    cal = metrics.calibration_table(error, risk)
    np.testing.assert_allclose(pd.DataFrame(d["calibration"])[cal.columns], cal)
    contrib = demo.model.explain(demo.features)
    imp = pd.DataFrame(d["importance"]).set_index("feature")["mean_abs_contribution"]
    expect = contrib[demo.model.feature_names_].abs().mean()
    np.testing.assert_allclose(imp[expect.index], expect)
    assert imp.is_monotonic_decreasing


def test_segments_consistent(built) -> None:
    _, d = built
    segs = d["segments"]
    assert 1 <= len(segs) <= 5
    for s in segs:
        assert s["share"] >= compute.SEGMENT_MIN_SHARE
        assert s["error_rate"] == pytest.approx(s["errors"] / s["count"])
        assert s["error_rate"] > d["error_rate"]
        assert len(set(s["features"])) == 2
    lows = [s["error_rate_low"] for s in segs]
    assert lows == sorted(lows, reverse=True)


def test_segments_find_a_planted_failure_range() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    values = pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "c": rng.random(n)})
    planted = (values["a"] <= 0.25) & (values["b"] > 0.75)
    error = np.where(planted, rng.random(n) < 0.9, rng.random(n) < 0.1).astype(int)
    segs = compute.segments(values, ["a", "b", "c"], np.full(n, 0.2), error)
    assert segs[0]["features"] == ["a", "b"]
    assert segs[0]["conditions"][0].startswith("a <=") and segs[0]["conditions"][1].startswith("b >")
    assert segs[0]["error_rate"] > 0.8


def test_hostile_file_name_and_title_are_text(demo: Demo, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # featrisk.report is this function once the package exports it: internals must not care
    monkeypatch.setattr(featrisk, "report", report, raising=False)
    risk = featrisk.predict(demo.features, demo.model)["risk"].to_numpy()
    riskiest = demo.outcomes["path"].iloc[int(np.argmax(risk))]
    hostile = tmp_path / HOSTILE
    shutil.copyfile(riskiest, hostile)
    broken = tmp_path / "<i>broken.jpg"
    broken.write_bytes(b"not an image")
    paths = [str(hostile), *demo.outcomes["path"].iloc[:39], str(broken)]
    correct = np.r_[False, demo.correct[:39], True]
    out = tmp_path / "hostile.html"
    title = "<script>alert('t')</script> & co"
    d = featrisk.report(demo.model, paths, correct, out=out, title=title, n_boot=50)
    assert (d["n_images"], d["n_scored"], d["n_unreadable"]) == (41, 40, 1)
    html = out.read_text(encoding="utf-8")
    assert HOSTILE not in html and "<script" not in html and "<i>broken" not in html
    assert "&lt;i&gt;broken.jpg" in html  # the unreadable file is named, as text
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; &amp; co" in html
    assert not [a for _, a in tags(html) if "onerror" in a]
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["title"] == title and saved["gallery"]["riskiest"][0]["name"] == HOSTILE


def test_size_bound_on_all_demo_images(demo: Demo, tmp_path: Path) -> None:
    n = len(demo.all_features)
    assert n >= 1000
    out = tmp_path / "all.html"
    report(demo.model, demo.all_features, demo.all_correct, out=out, n_boot=50)
    assert out.stat().st_size < 5e6 * n / 1000


def test_input_errors(demo: Demo, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"correct has 3 values but X has \d+ images"):
        report(demo.model, demo.features, [True, False, True], out=tmp_path / "r.html")
    with pytest.raises(ValueError, match="out must be the HTML file"):
        report(demo.model, demo.features, out=tmp_path / "r.json")


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.delitem(sys.modules, "featrisk.report.plots", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "featrisk\[report\]"'):
        importlib.import_module("featrisk.report.plots")


JUNIT_CASES = {
    "auroc-pass": (0.5, None, True, 0),
    "auroc-fail": (0.999, None, False, 1),
    "ece-pass": (None, 0.9, True, 0),
    "ece-fail": (None, 1e-6, False, 1),
    "one-of-two-fails": (0.5, 1e-6, False, 1),
    "no-threshold": (None, None, True, 0),
}


@pytest.mark.parametrize(("auroc", "ece", "passed", "failures"), JUNIT_CASES.values(),
                         ids=JUNIT_CASES.keys())
def test_junit_verdict(built, tmp_path: Path, auroc, ece, passed, failures) -> None:
    path = tmp_path / "verdict.xml"
    assert write_junit(built[1], path, fail_if_auroc_below=auroc, fail_if_ece_above=ece) is passed
    suite = ET.parse(path).getroot().find("testsuite")
    assert int(suite.get("failures")) == failures == len(suite.findall("testcase/failure"))
    assert int(suite.get("tests")) == max(1, (auroc is not None) + (ece is not None))


def test_junit_fails_without_outcomes(tmp_path: Path) -> None:
    d = {"title": "t", "summary": None, "summary_note": "no outcomes were given (correct=)"}
    assert not write_junit(d, tmp_path / "v.xml", fail_if_auroc_below=0.6)
    failure = ET.parse(tmp_path / "v.xml").getroot().find("testsuite/testcase/failure")
    assert "cannot check auroc" in failure.get("message")


@pytest.fixture(scope="session")
def cli_files(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli")
    model = base / "model.json"
    demo.model.save(model)
    features = base / "features.parquet"
    demo.features.to_parquet(features, index=False)
    labels = demo.folder / "labels.csv"  # relative paths: relative to the table's folder
    pd.DataFrame({"path": [Path(p).name for p in demo.outcomes["path"]],
                  "correct": demo.correct,
                  "softmax_max_prob": demo.outcomes["max_prob"]}).to_csv(labels, index=False)
    ytrue = base / "ytrue.csv"
    demo.outcomes[["path"]].assign(y_true=demo.outcomes["pristine_pred_class"],
                                   y_pred=demo.outcomes["pred_class"]).to_csv(ytrue, index=False)
    return {"model": model, "features": features, "labels": labels, "ytrue": ytrue}


CLI_CASES = {
    "auroc-gate-passes": (["--junit", "{tmp}/v.xml", "--fail-if-auroc-below", "0.5"], 0),
    "auroc-gate-fails": (["--junit", "{tmp}/v.xml", "--fail-if-auroc-below", "0.999"], 5),
    "gate-without-junit": (["--fail-if-auroc-below", "0.5"], 2),
    "json-as-out": (["-o", "{tmp}/r.json"], 2),
}


@pytest.mark.parametrize(("extra_args", "code"), CLI_CASES.values(), ids=CLI_CASES.keys())
def test_cli_exit_codes(cli_files, tmp_path: Path, capsys, extra_args, code) -> None:
    args = ["report", "--model", str(cli_files["model"]), "--labels", str(cli_files["labels"]),
            "--features", str(cli_files["features"]), "-o", str(tmp_path / "r.html"), "--no-images"]
    args += [a.format(tmp=tmp_path) for a in extra_args]
    assert main(args) == code, capsys.readouterr().err
    if code != 2:  # everything is written before a failed gate's exit code
        assert (tmp_path / "r.html").is_file() and (tmp_path / "v.xml").is_file()
        d = json.loads((tmp_path / "r.json").read_text())
        assert d["max_softmax"] is not None  # softmax_max_prob column picked up from the labels
        assert ("passed" if code == 0 else "FAILED") in capsys.readouterr().out


def test_cli_refuses_existing_output_and_reads_y_true(cli_files, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.html"
    out.write_text("keep me")
    args = ["report", "-m", str(cli_files["model"]), "--labels", str(cli_files["ytrue"]),
            "--features", str(cli_files["features"]), "-o", str(out), "--title", "again"]
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main([*args, "--overwrite"]) == 0
    d = json.loads(out.with_suffix(".json").read_text())
    assert d["title"] == "again" and d["summary"] is not None


def test_labels_free_report_from_cli(cli_files, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "-m", str(cli_files["model"]), "--features", str(cli_files["features"]),
                 "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    d = json.loads(out.with_suffix(".json").read_text())
    assert [a.get("id") for t, a in tags(html) if t == "section"] == SECTIONS
    assert d["summary"] is None and d["calibration"] is None and d["risk_coverage"] is None
    assert set(d["gallery"]) == {"riskiest", "safest"}
    assert "accepted_accuracy" not in d["thresholds"][0]
    assert d["segments"] and all("error_rate" not in s for s in d["segments"])
    assert "No outcomes were given" in html


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_renders_in_headless_chromium(built, tmp_path: Path) -> None:
    out, _ = built
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "shot.png"
    run = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,3000", out.as_uri()],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 50_000
    for marker in ("Uncaught", "CONSOLE", "Refused to", "Content Security Policy"):
        assert marker not in run.stderr, run.stderr[-2000:]
    dom = subprocess.run([*flags, "--dump-dom", out.as_uri()], capture_output=True, text=True,
                         timeout=120, check=False).stdout
    assert [a.get("id") for t, a in tags(dom) if t == "section"] == SECTIONS
    assert dom.count("<img") >= 14
