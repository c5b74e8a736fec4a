"""The benchmark harness on real classifier outcomes (the embedded demo set): grouped folds
never leak a source, the oracle and the baselines are computed as documented, and the full
evaluation runs end to end and writes BENCHMARKS-style markdown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from featrisk import metrics
from featrisk.bench import evaluate as ev
from featrisk.bench.report_md import render
from featrisk.model import fold_ids


@pytest.fixture(scope="module")
def demo_bench(demo_set) -> tuple[pd.DataFrame, pd.DataFrame]:
    _, features, outcomes = demo_set
    outcomes = outcomes.assign(source_id=outcomes["crop"],
                               true_class=outcomes["pristine_pred_class"])
    return features, outcomes


@pytest.mark.parametrize("cv", [2, 3, 5], ids=lambda k: f"k{k}")
def test_grouped_folds_never_split_a_source(cv: int) -> None:
    groups = np.repeat(np.arange(40), 7)
    folds = fold_ids(len(groups), cv=cv, groups=groups, seed=3)
    per_group = pd.Series(folds).groupby(groups).nunique()
    assert (per_group == 1).all()
    assert set(folds) == set(range(cv))
    assert np.array_equal(folds, fold_ids(len(groups), cv=cv, groups=groups, seed=3))


def test_oracle_is_training_fold_cell_error_rate() -> None:
    train = pd.DataFrame({"degradation": ["blur"] * 4 + ["none"] * 4, "severity": [3] * 4 + [0] * 4})
    error = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    test = pd.DataFrame({"degradation": ["blur", "none", "fog"], "severity": [3, 0, 2]})
    got = ev._oracle(train, test, error)
    prior = error.mean()
    np.testing.assert_allclose(got, [(3 + prior) / 5, (1 + prior) / 5, prior])


def test_logistic_stack_recovers_known_weights() -> None:
    from featrisk.model import logistic_fit  # what RiskModel(hybrid="stack") fits

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    y = (rng.random(20000) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - 0.5 * x[:, 1] + 0.2)))).astype(float)
    coef, intercept = logistic_fit(x, y)
    np.testing.assert_allclose([*coef, intercept], [1.5, -0.5, 0.2], atol=0.08)


def test_cleanvision_rules_point_the_documented_way() -> None:
    f = pd.DataFrame({"exposure_p99": [0.1, 0.9], "exposure_p05": [0.0, 0.8],
                      "blur_laplacian_var": [5.0, 500.0], "exposure_entropy": [2.0, 7.5]})
    s = ev.cleanvision_scores(f)
    assert s["cleanvision_dark"][0] > s["cleanvision_dark"][1]
    assert s["cleanvision_light"][1] > s["cleanvision_light"][0]
    assert s["cleanvision_blurry"][0] > s["cleanvision_blurry"][1]
    assert s["cleanvision_low_information"][0] > s["cleanvision_low_information"][1]


def test_gate_warns_when_interval_includes_chance() -> None:
    assert "not shown to be better than chance" in ev.gate_message({"value": 0.55, "low": 0.48, "high": 0.6})
    assert ev.gate_message({"value": 0.8, "low": 0.75, "high": 0.85}) is None


def test_full_evaluation_on_real_outcomes(demo_bench) -> None:
    features, outcomes = demo_bench
    # one family renamed to a newer one, so the set has rows outside the first fourteen
    newer = outcomes["degradation"] == sorted(set(outcomes["degradation"]) - {"none"})[0]
    outcomes = outcomes.assign(degradation=outcomes["degradation"].mask(newer, "elastic"))
    res = ev.evaluate(features, outcomes, folds=3, n_boot=50, log=lambda s: None)
    core = res["core_subset"]
    assert core["n"] == int((~newer).sum())
    low, high = core["featrisk_fitted_on_subset_ci"]
    assert low <= core["featrisk_fitted_on_subset"] <= high
    core["before"] = 0.5
    methods = res["methods"]
    assert {"featrisk", "featrisk_hybrid_stack", "featrisk_true_degradation", "max_softmax",
            "properties", "oracle", "cleanvision_any"} <= set(methods)
    for s in methods.values():
        assert s["auroc"]["low"] <= s["auroc"]["value"] <= s["auroc"]["high"]
    # the headline number is what metrics.auroc says about the stored scores' ranking
    assert 0.5 < methods["featrisk"]["auroc"]["value"] <= 1.0
    assert methods["entropy"]["ece"] is None and methods["featrisk"]["ece"] is not None
    fams = {r["family"] for r in res["by_family"]}
    assert "none (clean)" in fams and len(fams) > 5
    text = render({"demo": res}, {"commands": ["featrisk bench run"], "machine": "test",
                                  "versions": {"x": "1"}, "date": "now", "wall_seconds": 1.0})
    for heading in ("## demo", "### All methods", "### Targets", "### By degradation family",
                    "### By severity", "### What carries the signal"):
        assert heading in text
    value = f"{methods['featrisk']['auroc']['value']:.3f}"
    assert value in text
    # the paired difference to the oracle: same images, same resamples
    d = res["featrisk_minus_oracle"]
    assert d["value"] == pytest.approx(methods["featrisk"]["auroc"]["value"]
                                       - methods["oracle"]["auroc"]["value"])
    assert d["low"] <= d["value"] <= d["high"]
    assert "image-only minus oracle AUROC" in text
    fitted = core["featrisk_fitted_on_subset"]
    assert f"fitted on them alone, like for like with that run: AUROC {fitted:.3f}" in text
    cells = res["cells"]["featrisk"]
    assert 0 <= cells["within"] <= 1 and cells["between"] <= cells["cell_rates"] + 1e-12
    assert f"rank the cells at AUROC {cells['between']:.3f}" in text


def test_cell_diagnostics_split_ranking_between_and_within_cells() -> None:
    cells = np.repeat(["blur|1", "blur|5", "none|0"], 4)
    error = np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0])
    rate = pd.Series(error).groupby(cells).transform("mean").to_numpy()
    constant = ev.cell_diagnostics(error, rate, cells)  # the cells' own rates, nothing within
    assert constant["within"] == pytest.approx(0.5)
    assert constant["between"] == pytest.approx(constant["cell_rates"])
    within = ev.cell_diagnostics(error, rate + 0.01 * error, cells)  # also right within cells
    assert within["within"] == pytest.approx(1.0)
    assert within["between"] == pytest.approx(constant["between"])
    reversed_ = ev.cell_diagnostics(error, -rate - 0.01 * error, cells)
    assert reversed_["within"] == pytest.approx(0.0) and reversed_["between"] < 0.5


def test_true_degradation_fills_the_estimator_columns_with_the_truth() -> None:
    columns = ["degradation_p_jpeg", "degradation_p_none", "degradation_severity"]
    told = ev.true_degradation(columns, np.array(["none", "jpeg", "haze"]), np.array([0, 3, 5]))
    assert list(told.columns) == columns
    # a family the estimator has no column for (haze here) is none of the known ones
    assert told.to_numpy().tolist() == [[0, 1, 0], [1, 0, 3], [0, 0, 5]]


@pytest.mark.parametrize(("told", "says_risk_model"), [(0.782, True), (0.786, False)])
def test_estimator_ceiling_says_where_the_gap_to_the_oracle_is(told, says_risk_model) -> None:
    from featrisk.bench.report_md import _estimator_ceiling_line

    auroc = {"featrisk": 0.779, "featrisk_true_degradation": told, "oracle": 0.787}
    line = _estimator_ceiling_line({k: {"auroc": {"value": v}} for k, v in auroc.items()})
    assert f"reaches {told:.3f} ({told - 0.779:+.3f})" in line
    assert ("better-fitted risk model" in line) is says_risk_model


def test_metrics_summary_matches_pointwise(demo_bench) -> None:
    _, outcomes = demo_bench
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    risk = 1 - outcomes["max_prob"].to_numpy()
    s = metrics.summary(error, risk, n_boot=20)
    assert s["auroc"]["value"] == pytest.approx(metrics.auroc(error, risk))


def test_demo_runs_and_compares_with_softmax(demo_set, capsys) -> None:
    from featrisk.cli import main

    folder = demo_set[0]
    assert main(["demo", "-o", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "top-1 class on it differs from its top-1 on the pristine crop" in out
    assert "max-softmax" in out and "featrisk (image only)" in out
    for name in ("summary.json", "predictions.csv", "importance.csv", "model.json"):
        assert (folder / name).is_file()
    import json

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["test_images"] + summary["train_images"] == summary["images"] == 1450
    assert summary["featrisk"]["auroc"]["value"] > 0.6
    assert main(["demo", "-o", str(folder)]) == 2  # never overwrites without --overwrite


def test_heldout_family_never_in_training(demo_bench) -> None:
    features, outcomes = demo_bench
    rows = ev.heldout_families(features, outcomes, families=["gaussian_noise", "jpeg"],
                               model_params={"cv": 3}, log=lambda s: None)
    assert [r["family"] for r in rows] == ["gaussian_noise", "jpeg"]
    for r in rows:
        assert 0.0 <= r["featrisk"] <= 1.0 and r["n"] > 20
        low, high = r["featrisk_ci"]  # bootstrap over held-out sources, around the point value
        # every source is scored once: all of the family's images and all clean ones
        deg = outcomes["degradation"]
        assert r["n"] == int(((deg == r["family"]) | (deg == "none")).sum())
        assert low <= r["featrisk"] <= high and low < high
    # noise is obvious to image statistics even when no noisy image was in training
    assert rows[0]["featrisk"] > 0.6
    # the oracle ceiling knows the family: noise drives errors, so it ranks them well
    assert 0.0 <= rows[1]["oracle"] <= 1.0 and rows[0]["oracle"] > 0.6


def test_heldout_ceiling_note_splits_families_by_the_oracle() -> None:
    from featrisk.bench.report_md import _ceiling_note

    rows = [{"family": "noise", "featrisk": 0.80, "oracle": 0.82},
            {"family": "blur", "featrisk": 0.60, "oracle": 0.75},
            {"family": "tint", "featrisk": 0.52, "oracle": 0.51}]
    text = _ceiling_note(rows)[0]
    assert "It stays below 0.65 on 1 families (tint 0.510)" in text
    assert "On the 2 families where the oracle reaches 0.65, featrisk reaches it on 1" in text
    assert text.endswith("it trails the oracle most on blur (0.600 against 0.750), "
                         "noise (0.800 against 0.820).")
    rows[1]["featrisk"] = 0.9  # above its oracle: not a gap
    assert "it trails the oracle most on noise (0.800 against 0.820)." in _ceiling_note(rows)[0]
    assert _ceiling_note([{"family": "noise", "featrisk": 0.8}]) == []  # older reports


def test_targets_check_heldout_families_against_the_bar_and_the_ceiling() -> None:
    from featrisk.bench.report_md import targets

    auroc = {"featrisk": 0.78, "featrisk_hybrid_stack": 0.9, "featrisk_hybrid_lgbm": 0.9,
             "max_softmax": 0.89, "properties": 0.6, "oracle": 0.79, "cleanvision_any": 0.5}
    methods = {k: {"auroc": {"value": v}, "ece": {"value": 0.02}} for k, v in auroc.items()}
    rows = [{"family": "noise", "featrisk": 0.80, "oracle": 0.82},
            {"family": "blur", "featrisk": 0.60, "oracle": 0.75},
            {"family": "tint", "featrisk": 0.52, "oracle": 0.51}]
    lines = targets({"methods": methods, "heldout_families": rows})
    assert "- [ ] every held-out family at AUROC 0.65 or more (1 of 3)" in lines
    assert ("- [ ] every held-out family whose oracle ceiling reaches 0.65 at 0.65 or more "
            "(1 of 2)") in lines
    rows[1]["featrisk"] = 0.7  # blur now clears the bar: only the out-of-reach family misses
    lines = targets({"methods": methods, "heldout_families": rows})
    assert any(line.startswith("- [x] every held-out family whose oracle") for line in lines)


def test_family_costs_cover_every_family_and_view(demo_set) -> None:
    from featrisk import features as F
    from featrisk.bench.ablation import VIEWS, family_costs_ms

    folder, features, _ = demo_set
    costs = family_costs_ms(features["path"].tolist()[:12], repeats=1)
    names = [f.__name__.rsplit(".", 1)[-1] for f in F.FAMILIES]
    assert set(costs) == {"all", *names, *(f"view_{v}" for v in VIEWS)}
    assert all(v >= 0 for v in costs.values())
    assert costs["all"] == pytest.approx(sum(v for k, v in costs.items() if k != "all"))
    # 224 px photos: the families' own work is a real share of the time, not zero
    assert costs["blur"] > 0.01 and costs["all"] > 0.5


def test_family_ablation_drops_exactly_one_family(demo_bench, monkeypatch) -> None:
    from featrisk.bench import ablation

    features, outcomes = demo_bench
    seen: list[list[str]] = []
    original = ablation._direct_auroc

    def spy(feat, error, fold, groups, columns):
        seen.append(list(columns))
        return original(feat, error, fold, groups, columns)

    monkeypatch.setattr(ablation, "_direct_auroc", spy)
    res = ablation.family_ablation(features, outcomes.assign(path=features["path"]), folds=3,
                                   timing_images=5, log=lambda s: None)
    from featrisk.schema import FEATURE_COLUMNS

    assert seen[0] == list(FEATURE_COLUMNS)
    rows = {r["family"]: r for r in res["families"]}
    assert len(seen) == 1 + len(rows)
    for cols, (name, row) in zip(seen[1:], rows.items(), strict=True):
        missing = set(FEATURE_COLUMNS) - set(cols)
        assert {c.split("_")[0] for c in missing} == {name} and len(missing) == row["columns"]
        assert row["auroc_lost"] == pytest.approx(res["auroc_all"] - row["auroc_without"], abs=2e-4)
    assert 0.5 < res["auroc_all"] <= 1.0


def test_working_size_is_restored_and_changes_the_working_image(photo_paths) -> None:
    from featrisk.bench.ablation import working_size
    from featrisk.extract import extract
    from featrisk.features import _base

    before = extract(photo_paths[:1])
    with working_size(96):
        small = extract(photo_paths[:1])
        assert _base.work_size(512, 512) == (96, 96)
    assert _base.WORK_SHORT_SIDE == 224 and _base.work_size(512, 512) == (224, 224)
    # the native measure does not depend on the working size; the working one does
    assert small["blur_laplacian_var_native"][0] == before["blur_laplacian_var_native"][0]
    assert small["blur_laplacian_var"][0] != before["blur_laplacian_var"][0]


def test_skimage_estimator_set_is_disjoint_from_demo_and_labelled(tmp_path) -> None:
    from featrisk import degrade
    from featrisk.bench.skimage_set import ESTIMATOR_PHOTOS, build_skimage_set
    from featrisk.demo_images import PHOTOS

    # the demo's held-out figures stay held out: the estimator never sees its photos
    assert not set(ESTIMATOR_PHOTOS) & set(PHOTOS)
    table = build_skimage_set(tmp_path, photos=("moon",))
    assert len(table) == 5 * (1 + 2 * len(degrade.FAMILIES))
    assert set(table["degradation"]) == {"none", *degrade.FAMILIES}
    assert (table.loc[table["degradation"] == "none", "severity"] == 0).all()
    assert table.loc[table["degradation"] != "none", "severity"].between(1, 5).all()
    # deterministic: the same seed writes the same table
    assert build_skimage_set(tmp_path, photos=("moon",)).equals(table)
    from featrisk.io import read_image

    first = read_image(table["path"][0])
    assert first.rgb.shape == (224, 224, 3)


def test_heldout_summary_counts_intervals_against_the_bar() -> None:
    from featrisk.bench.report_md import _clear_of, _with_ci

    rows = [{"featrisk": 0.70, "featrisk_ci": [0.66, 0.74]},   # wholly above 0.65
            {"featrisk": 0.66, "featrisk_ci": [0.58, 0.73]},   # at the bar, interval straddles
            {"featrisk": 0.55, "featrisk_ci": [0.45, 0.64]}]   # wholly below
    assert _clear_of(rows) == (" (2 of 3 families at 0.65 or more; the interval lies wholly "
                               "above 0.65 for 1 and wholly below it for 1)")
    assert _with_ci(rows[2]) == "0.550 [0.450, 0.640]"
    # reports written before intervals were kept still render
    assert _clear_of([{"featrisk": 0.7}]) == " (1 of 1 families at 0.65 or more)"
    assert _with_ci({"featrisk": 0.7}) == "0.700"


def test_classifier_note_quotes_the_cnn_the_build_trained(tmp_path) -> None:
    import json

    from featrisk.bench.cli import classifier_note

    assert classifier_note(tmp_path) == ""
    (tmp_path / "cnn.json").write_text(json.dumps(
        {"test_accuracy": 0.8431, "epochs": 8, "train_seconds": 1482.8}))
    assert "84.31% clean test accuracy" in classifier_note(tmp_path)
    assert "8 epochs, 1483 s of training" in classifier_note(tmp_path)


def test_render_names_the_run_behind_each_outcome_set() -> None:
    from featrisk.bench.report_md import provenance, run_commands

    full = "featrisk bench run --cache-root c --out BENCHMARKS.md"
    part = "featrisk bench run --cache-root c --datasets cifar --out BENCHMARKS.md"
    results = {"imagenet": {"run": {"command": full, "date": "d1", "seconds": 3000.0}},
               "cifar": {"run": {"command": part, "date": "d2", "seconds": 1951.4}}}
    meta = {"commands": ["featrisk bench build imagenet x", "featrisk bench build cifar y", part]}
    # the last run covered CIFAR-10 only: the ImageNet numbers still name the run that made them
    assert run_commands(results, meta) == ["featrisk bench build imagenet x",
                                           "featrisk bench build cifar y", full, part]
    assert provenance(results["cifar"]) == [f"Produced by `{part}` at d2 (UTC) in 1951 s.", ""]
    assert provenance({}) == []  # results written before runs were recorded say nothing


def test_skip_heldout_keeps_the_last_computed_rows_labelled_with_their_run(tmp_path) -> None:
    from featrisk.bench.cli import _earlier_heldout

    path = tmp_path / "imagenet.json"
    assert _earlier_heldout(path) == {}  # no earlier run: nothing to keep
    rows = [{"family": "fog", "featrisk": 0.6}, {"family": "snow", "featrisk": 0.7}]
    run = {"command": "featrisk bench run --datasets imagenet", "date": "2026-12-06 11:45"}
    path.write_text(json.dumps({"heldout_families": rows, "run": run}))
    kept = _earlier_heldout(path)
    assert kept["heldout_families"] == rows
    assert kept["heldout_run"] == {**run, "n_families": 2}
    # kept again by a later --skip-heldout run: still labelled with the run that computed them
    path.write_text(json.dumps({**kept, "run": {"command": "later", "date": "2026-12-07"}}))
    assert _earlier_heldout(path)["heldout_run"]["date"] == "2026-12-06 11:45"
    path.write_text(json.dumps({"heldout_families": [], "run": run}))
    assert _earlier_heldout(path) == {}


def test_composed_set_writes_two_damages_per_image_and_weights_them(tmp_path) -> None:
    from pathlib import Path

    import cv2
    import skimage.data

    from featrisk import degrade
    from featrisk.bench.composed_set import build_composed_set, estimator_rows, parse
    from featrisk.io import read_image

    clean = []
    for i, name in enumerate(("astronaut", "coffee")):
        rgb = cv2.resize(getattr(skimage.data, name)(), (96, 96), interpolation=cv2.INTER_AREA)
        path = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        clean.append({"path": str(path), "source_id": f"photo{i}"})
    clean = pd.DataFrame(clean)
    table = build_composed_set(clean, tmp_path / "composed", per_photo=3, seed=4)
    assert len(table) == 6 and table["path"].map(lambda p: Path(p).exists()).all()
    assert build_composed_set(clean, tmp_path / "composed", per_photo=3, seed=4).equals(table)
    first = parse(table["damages"][0])
    assert len(first) == 2 and {f for f, _ in first} <= set(degrade.FAMILIES)
    assert all(1 <= s <= 5 for _, s in first)
    assert read_image(table["path"][0]).rgb.shape == (96, 96, 3)
    features = pd.DataFrame({"path": table["path"], "error": [None] * 5 + ["unreadable"],
                             "blur_x": np.arange(6.0)})
    rows = estimator_rows(table, features)
    assert len(rows.degradation) == 10  # two rows per readable image, none for the sixth
    np.testing.assert_allclose(rows.weight.reshape(5, 2).sum(axis=1), 1.0)
    (f1, s1), (f2, s2) = first
    assert list(rows.degradation[:2]) == [f1, f2]
    np.testing.assert_allclose(rows.weight[:2], [s1 / (s1 + s2), s2 / (s1 + s2)])
    np.testing.assert_allclose(rows.severity[:2], min(5.0, np.hypot(s1, s2)))
    assert list(rows.groups[:2]) == ["photo0", "photo0"]
    assert set(rows.without(["photo0"]).groups) == {"photo1"}


def test_head_mc_scores_are_dropout_passes_over_the_embedding() -> None:
    """Without dropout every pass is the plain head, so the passes agree; with it they
    spread, and the mean stays near the plain prediction."""
    torch = pytest.importorskip("torch")
    from featrisk.bench.signals import head_mc_scores
    from featrisk.signals import logit_scores

    class Head(torch.nn.Module):
        def __init__(self, p: float) -> None:
            super().__init__()
            self._dropout = torch.nn.Dropout(p)
            self._fc = torch.nn.Linear(16, 5)

    torch.manual_seed(0)
    head = Head(0.0)
    emb = np.random.default_rng(1).normal(size=(40, 16)).astype(np.float32)
    plain = logit_scores(head._fc(torch.from_numpy(emb)).detach().numpy())
    still = head_mc_scores(head, emb, passes=8)
    assert len(still) == 40
    np.testing.assert_allclose(still["signal_mc_max_softmax"], plain["signal_max_softmax"],
                               atol=1e-9)
    assert np.allclose(still["signal_mc_mutual_information"], 0, atol=1e-9)
    head._dropout.p = 0.5
    noisy = head_mc_scores(head, emb, passes=64)
    assert (noisy["signal_mc_mutual_information"] > 1e-4).mean() > 0.9


def test_signals_section_lists_every_approach_best_first() -> None:
    from featrisk.bench.report_md import signals_section

    def row(approach, subset, auroc):
        return {"approach": approach, "subset": subset, "auroc": auroc, "auroc_low": auroc - 0.01,
                "auroc_high": auroc + 0.01, "aurc": 0.1, "caught": 0.3}

    sig = {"dataset": "independent", "n_images": 100, "n_clean": 10, "folds": 5,
           "classifiers": {"lite0": {
               "model": "efficientnet-lite0", "input_px": 224, "accuracy": 0.6,
               "clean_accuracy": 0.8, "recommendation": "Use the stacked hybrid.",
               "stack_inputs": {"signal_max_softmax": 5},
               "table": [row("signal_max_softmax", "all", 0.88), row("stacked hybrid", "all", 0.9),
                         row("signal_max_softmax", "clean photos", 0.85)]}},
           "transfer": None}
    text = "\n".join(signals_section(sig))
    assert "## Every failure predictor on the independent set" in text
    assert text.index("| stacked hybrid | 0.900") < text.index("| signal_max_softmax | 0.880")
    assert "| signal_max_softmax | 0.850 [0.840, 0.860]" in text  # the clean photos table
    assert "Transfer" not in text
