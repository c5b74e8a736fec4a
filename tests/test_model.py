"""Risk model on real classifier outcomes: the embedded demo set (EfficientNet-Lite0 on
degraded crops of scikit-image's photos, outcomes recorded in data/demo_outcomes.csv)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featrisk
from featrisk import metrics, stack, wording


@pytest.fixture(scope="session")
def demo(demo_set) -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_set[1], demo_set[2]


@pytest.fixture(scope="session")
def fitted(demo) -> featrisk.RiskModel:
    features, outcomes = demo
    return featrisk.fit(features, outcomes["correct"].to_numpy(), groups=outcomes["crop"].to_numpy())


def test_demo_outcomes_are_real_and_mixed(demo) -> None:
    features, outcomes = demo
    assert len(features) == len(outcomes) >= 500
    assert features["error"].isna().all()
    rate = 1 - outcomes["correct"].mean()
    assert 0.1 < rate < 0.7
    clean = outcomes[outcomes["degradation"] == "none"]
    assert clean["correct"].all(), "pristine crops define the label, so they are all correct"


def test_fit_learns_real_failures_out_of_fold(fitted: featrisk.RiskModel) -> None:
    s = fitted.training_summary_
    assert s["grouped"] and s["calibration"] == "platt"
    assert s["oof_auroc"] > 0.7, s
    assert s["oof_ece"] < 0.1, s
    assert fitted.n_estimators_ >= 1
    derived = [f for f in fitted.feature_names_ if f not in featrisk.FEATURE_COLUMNS]
    assert fitted.feature_names_[: len(featrisk.FEATURE_COLUMNS)] == list(featrisk.FEATURE_COLUMNS)
    assert derived and all(f.startswith("degradation_") for f in derived)


def test_degradation_estimator_reads_real_degradations(demo) -> None:
    from featrisk.degradation import default_estimator

    features, outcomes = demo
    est = default_estimator()
    out = est.transform(features)
    probs = out[[c for c in out if c.startswith("degradation_p_")]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    predicted = np.array(est.classes_)[probs.argmax(axis=1)]
    # the demo photos were never seen by the shipped estimator
    accuracy = (predicted == outcomes["degradation"].to_numpy()).mean()
    assert accuracy > 0.5, accuracy
    # the estimated severity rises with the true one; faint damage (severity 1 of elastic,
    # posterize, webp ...) looks clean, so clean images sit with severity 1, well below 3-5
    by_severity = out["degradation_severity"].groupby(outcomes["severity"].to_numpy()).mean()
    assert by_severity.loc[1:].is_monotonic_increasing, by_severity.round(2).to_dict()
    assert by_severity.loc[0] < by_severity.loc[2] < by_severity.loc[3] - 0.3, by_severity.round(2).to_dict()
    assert by_severity.loc[5] > by_severity.loc[0] + 1.5, by_severity.round(2).to_dict()


def test_direct_mode_uses_features_only(demo) -> None:
    features, outcomes = demo
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), degradation=None, cv=3)
    assert model.feature_names_ == list(featrisk.FEATURE_COLUMNS)


def test_estimator_outputs_alone_fit_without_features(demo) -> None:
    import warnings

    features, outcomes = demo
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero from an empty reference
        model = featrisk.fit(features, outcomes["correct"].to_numpy(), features=[], cv=3,
                             groups=outcomes["crop"].to_numpy())
    assert model.feature_names_ and all(f.startswith("degradation_") for f in model.feature_names_)
    assert model.atypicality_ is None  # nothing to measure a distance on
    assert np.isfinite(model.predict_risk(features)).all()
    # the estimated degradation alone still ranks real failures, out of fold
    assert model.training_summary_["oof_auroc"] > 0.6, model.training_summary_


def test_unfitted_model_raises_clear_error() -> None:
    with pytest.raises(featrisk.NotFittedError, match="call fit"):
        featrisk.RiskModel().predict_risk(pd.DataFrame())


def test_predict_paths_equals_predict_table(demo, fitted) -> None:
    features, outcomes = demo
    some = outcomes["path"].tolist()[:25]
    by_path = featrisk.predict(some, fitted)
    by_table = featrisk.predict(features.iloc[:25], fitted)
    pd.testing.assert_frame_equal(by_path, by_table)
    assert list(by_path.columns) == ["path", "risk", "atypicality", "flagged", "reasons",
                                     "reason_features", "error"]
    assert by_path["risk"].between(0, 1).all()


def test_flags_follow_threshold_choices(demo, fitted) -> None:
    features, outcomes = demo
    crops = np.sort(outcomes["crop"].unique())
    held = np.random.default_rng(0).choice(crops, size=len(crops) // 3, replace=False)
    held_out = outcomes["crop"].isin(held).to_numpy()
    model = featrisk.fit(features[~held_out], outcomes.loc[~held_out, "correct"].to_numpy(),
                         groups=outcomes.loc[~held_out, "crop"].to_numpy())
    for rate in (0.05, 0.2, 0.5):
        thr = model.threshold_for(flag_rate=rate)
        assert abs((model.oof_risk_ >= thr).mean() - rate) < 0.02
        flagged = featrisk.predict(features[held_out], model, flag_rate=rate)["flagged"].mean()
        assert abs(flagged - rate) < 0.12, (rate, flagged)
    thr = fitted.threshold_for(target_accuracy=0.95)
    accepted = fitted.oof_risk_ < thr
    assert 1 - fitted.oof_error_[accepted].mean() >= 0.95
    with pytest.raises(ValueError, match="flag_rate or target_accuracy"):
        featrisk.predict(features, fitted, flag_rate=0.1, target_accuracy=0.9)


def test_contributions_sum_to_raw_score(demo, fitted) -> None:
    features, _ = demo
    contrib = fitted.explain(features.iloc[:50])
    total = contrib.drop(columns="path").sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, fitted.raw_risk(features.iloc[:50]), atol=1e-9)
    risk = fitted.predict_risk(features.iloc[:50])
    a, b = fitted.calibration_
    offset = fitted.calibration_offset(features.iloc[:50])
    np.testing.assert_allclose(risk, 1 / (1 + np.exp(-(a * total + b + offset))), rtol=1e-9)


@pytest.fixture(scope="module")
def stacked(demo) -> featrisk.RiskModel:
    features, outcomes = demo
    return featrisk.fit(features, outcomes["correct"].to_numpy(),
                        groups=outcomes["crop"].to_numpy(), calibration="stack")


def test_stack_calibration_adds_a_degradation_term(demo, fitted, stacked) -> None:
    features, outcomes = demo
    assert fitted.stack_ is None and fitted.training_summary_["calibration"] == "platt"
    np.testing.assert_array_equal(fitted.calibration_offset(features.iloc[:5]), np.zeros(5))
    assert stacked.stack_ is not None and stacked.training_summary_["calibration"] == "stack"
    offset = stacked.calibration_offset(features)
    assert np.isfinite(offset).all() and offset.std() > 0.05  # it moves risks by degradation
    # same booster, only the map to probabilities differs; contributions still explain it
    np.testing.assert_allclose(stacked.raw_risk(features), fitted.raw_risk(features))
    contrib = stacked.explain(features.iloc[:20]).drop(columns="path").sum(axis=1).to_numpy()
    a, b = stacked.calibration_
    np.testing.assert_allclose(stacked.predict_risk(features.iloc[:20]),
                               1 / (1 + np.exp(-(a * contrib + b + offset[:20]))), rtol=1e-9)
    # fitted on out-of-fold scores: calibrated, and it ranks these known degradations at
    # least about as well as Platt scaling of the same booster
    assert stacked.training_summary_["oof_auroc"] >= fitted.training_summary_["oof_auroc"] - 0.005
    assert stacked.training_summary_["oof_ece"] < 0.06


def test_stack_calibration_needs_estimator_outputs_and_a_known_name(demo) -> None:
    features, outcomes = demo
    with pytest.raises(ValueError, match="needs the degradation estimator's outputs"):
        featrisk.fit(features, outcomes["correct"].to_numpy(), degradation=None,
                     calibration="stack")
    with pytest.raises(ValueError, match="calibration must be"):
        featrisk.fit(features, outcomes["correct"].to_numpy(), calibration="isotonic")


def test_importance_and_reasons_name_real_features(demo, fitted) -> None:
    features, _ = demo
    imp = fitted.importance()
    assert list(imp.columns) == ["mean_abs_contribution", "gain"]
    assert imp["mean_abs_contribution"].is_monotonic_decreasing
    assert imp.index[0] in fitted.feature_names_
    reasons = featrisk.predict(features, fitted)
    risky = reasons.sort_values("risk").iloc[-1]
    first = risky["reasons"].split("; ")[0]
    name = risky["reason_features"].split("; ")[0]
    words, _, amount = first.rpartition(" (")
    assert name in fitted.feature_names_ and name not in first
    assert words in wording.phrases(name) and amount.startswith("+") and amount.endswith(")")


def test_reasons_are_words_lined_up_with_their_columns(demo, fitted) -> None:
    """Each reason is its column's phrase for the side of usual the image's value lies on,
    with its TreeSHAP contribution; reason_features names the same columns in order."""
    features, _ = demo
    pred = featrisk.predict(features, fitted)
    table, contrib = fitted.inputs(features), fitted.explain(features)
    assert pred["reasons"].tolist() == fitted.reasons(contrib, table)
    assert pred["reason_features"].tolist() == fitted.reason_features(contrib, table)
    seen = set()
    for i, (words, names) in enumerate(zip(pred["reasons"], pred["reason_features"], strict=True)):
        assert (words == "") == (names == ""), i
        if not words:
            continue
        parts, columns = words.split("; "), names.split("; ")
        assert len(parts) == len(columns) <= 3 and len(set(columns)) == len(columns), i
        amounts = []
        for part, column in zip(parts, columns, strict=True):
            phrase, _, amount = part.rpartition(" (")
            value, q = table.loc[i, column], fitted.feature_quantiles_[column]
            assert phrase == wording.phrase(column, value, q) and column not in phrase, (i, part)
            amounts.append(float(amount.rstrip(")")))
            assert amounts[-1] == pytest.approx(contrib.loc[i, column], abs=0.006), (i, part)
        assert amounts == sorted(amounts, reverse=True) and min(amounts) > 0, (i, words)
        seen.update(columns)
    # the estimator's outputs are among the reasons, and read as damage
    assert any(c.startswith("degradation_") for c in seen), seen
    assert all(w.split(" (")[0].startswith(("looks", "damage looks"))
               for words, names in zip(pred["reasons"], pred["reason_features"], strict=True)
               for w, c in zip(words.split("; "), names.split("; "), strict=True)
               if c.startswith("degradation_"))


def test_a_dark_image_reads_darker_than_usual(demo) -> None:
    """A model that learned "dark images fail" explains a very dark image in those words."""
    features, _ = demo
    dark = (features["exposure_mean"] < features["exposure_mean"].quantile(0.2)).to_numpy()
    model = featrisk.fit(features, ~dark, features=["exposure_mean", "blur_laplacian_var"],
                         degradation=None, cv=3)
    assert model.feature_quantiles_["exposure_mean"][0] > 0.05
    table = features.iloc[:20].copy()
    table["exposure_mean"] = 0.01  # far below the training images' 5th percentile
    pred = featrisk.predict(table, model)
    assert pred["reasons"].str.startswith("darker than usual (+").all(), pred["reasons"].tolist()
    assert (pred["reason_features"].str.split("; ").str[0] == "exposure_mean").all()
    table["exposure_mean"] = 0.6  # bright: the same column now lowers the risk
    pred = featrisk.predict(table, model)
    assert not pred["reasons"].str.contains("darker|brighter").any(), pred["reasons"].tolist()
    assert not pred["reason_features"].str.contains("exposure_mean").any()


def test_extra_columns_reason_in_their_own_words(demo) -> None:
    features, outcomes = demo
    wrong = ~outcomes["correct"].to_numpy(bool)
    extra = pd.DataFrame({"path": outcomes["path"], "softmax_max_prob": outcomes["max_prob"],
                          "flare_score": wrong + np.random.default_rng(0).normal(0, 0.3, len(wrong))})
    model = featrisk.fit(features, ~wrong, extra=extra, groups=outcomes["crop"].to_numpy(), cv=3,
                         learning_rate=0.1)
    pred = featrisk.predict(features, model, extra=extra)
    words, names = "; ".join(pred["reasons"]), "; ".join(pred["reason_features"])
    assert "flare_score higher than usual (+" in words  # no phrase known: the name stays
    assert "classifier less confident than usual (+" in words and "softmax_max_prob" not in words
    assert "softmax_max_prob" in names and "flare_score" in names


def test_save_load_round_trip_identical(tmp_path: Path, demo, fitted) -> None:
    features, _ = demo
    path = fitted.save(tmp_path / "model.json")
    loaded = featrisk.load(path)
    pd.testing.assert_frame_equal(featrisk.predict(features, fitted), featrisk.predict(features, loaded))
    assert loaded.threshold_for(flag_rate=0.1) == fitted.threshold_for(flag_rate=0.1)
    manifest = json.loads(path.read_text())["manifest"]
    assert manifest["schema_version"] == featrisk.SCHEMA_VERSION
    assert manifest["feature_names"] == fitted.feature_names_
    assert manifest["degradation_sha256"] == loaded._estimator().sha256_
    assert {"lightgbm", "numpy"} <= set(manifest["package_versions"])


def test_stack_calibration_survives_save_and_older_platt_files_load(tmp_path: Path, demo,
                                                                    stacked) -> None:
    from featrisk.modelfile import manifest_digest

    features, _ = demo
    path = stacked.save(tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["manifest"]["calibration"]["method"] == "stack"
    assert len(doc["manifest"]["calibration"]["coef"]) == 3 * len(stacked.stack_["p_columns"])
    np.testing.assert_array_equal(featrisk.load(path).predict_risk(features.iloc[:30]),
                                  stacked.predict_risk(features.iloc[:30]))

    # a file written before the stack existed: Platt block, no calibration parameter
    old_doc = json.loads(path.read_text())
    a, b = old_doc["manifest"]["calibration"]["a"], old_doc["manifest"]["calibration"]["b"]
    old_doc["manifest"]["calibration"] = {"method": "platt", "a": a, "b": b}
    del old_doc["manifest"]["params"]["calibration"]
    old_doc["manifest_sha256"] = manifest_digest(old_doc["manifest"])
    (tmp_path / "old.json").write_text(json.dumps(old_doc))
    old = featrisk.load(tmp_path / "old.json")
    raw = old.raw_risk(features.iloc[:30])
    np.testing.assert_allclose(old.predict_risk(features.iloc[:30]), 1 / (1 + np.exp(-(a * raw + b))))

    # a calibration block naming features the model lacks is refused, with the file named
    bad_doc = json.loads(path.read_text())
    bad_doc["manifest"]["calibration"]["severity_column"] = "no_such_feature"
    bad_doc["manifest_sha256"] = manifest_digest(bad_doc["manifest"])
    (tmp_path / "bad.json").write_text(json.dumps(bad_doc))
    with pytest.raises(featrisk.ModelFileError, match=r"bad\.json.*features the model lacks"):
        featrisk.load(tmp_path / "bad.json")


def test_load_refuses_pickle_truncation_tampering_and_schema(tmp_path: Path, fitted) -> None:
    good = fitted.save(tmp_path / "m.json")
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(featrisk.ModelFileError, match="never unpickles"):
        featrisk.load(pkl)
    cut = tmp_path / "cut.json"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(featrisk.ModelFileError, match="truncated or not JSON"):
        featrisk.load(cut)
    doc = json.loads(good.read_text())
    doc["booster"] = doc["booster"].replace("leaf_value=", "leaf_value=1", 1)
    bad = tmp_path / "altered.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(featrisk.ModelFileError, match="checksum mismatch"):
        featrisk.load(bad)
    doc = json.loads(good.read_text())
    doc["manifest"]["schema_version"] = "0"
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    with pytest.raises(featrisk.SchemaError, match="schema 0"):
        featrisk.load(old)
    with pytest.raises(featrisk.ModelFileError, match="not found"):
        featrisk.load(tmp_path / "nope.json")


def test_save_is_atomic_and_keeps_old_model_on_failure(tmp_path: Path, fitted, monkeypatch) -> None:
    path = fitted.save(tmp_path / "m.json")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("featrisk.modelfile.json.dump", boom)
    with pytest.raises(OSError, match="disk full"):
        fitted.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_y_true_y_pred_equivalent_to_correct(demo) -> None:
    features, outcomes = demo
    sub = slice(0, 400)
    y_true = outcomes["pristine_pred_class"].to_numpy()[sub]
    y_pred = outcomes["pred_class"].to_numpy()[sub]
    a = featrisk.fit(features.iloc[sub], y_true=y_true, y_pred=y_pred)
    b = featrisk.fit(features.iloc[sub], y_true == y_pred)
    np.testing.assert_array_equal(a.oof_risk_, b.oof_risk_)
    with pytest.raises(ValueError, match="not both"):
        featrisk.fit(features.iloc[sub], y_true == y_pred, y_true=y_true, y_pred=y_pred)


def test_hybrid_with_softmax_extra(demo) -> None:
    features, outcomes = demo
    probs = outcomes["max_prob"].to_numpy()
    extra = pd.DataFrame({"softmax_max_prob": probs, "path": outcomes["path"]})
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), extra=extra,
                         groups=outcomes["crop"].to_numpy())
    assert model.extra_columns_[0] == "softmax_max_prob"
    error = 1 - outcomes["correct"].to_numpy(int)
    baseline = metrics.auroc(error, 1 - probs)
    assert model.training_summary_["oof_auroc"] >= baseline - 0.02
    with pytest.raises(featrisk.SchemaError, match="pass them with extra="):
        featrisk.predict(features, model)
    out = featrisk.predict(features, model, extra=extra)
    assert out["risk"].notna().all()


def test_softmax_features_values() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    f = featrisk.softmax_features(probs)
    np.testing.assert_allclose(f["softmax_max_prob"], [0.7, 1 / 3])
    np.testing.assert_allclose(f["softmax_margin"], [0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(f["softmax_entropy"][1], np.log(3))
    np.testing.assert_allclose(f["softmax_gini"], [1 - 0.54, 2 / 3])
    with pytest.raises(ValueError, match="n_classes >= 2"):
        featrisk.softmax_features(np.ones(3))
    # float16 rounding is renormalised away; the scores match the exact probabilities
    half = featrisk.softmax_features(probs.astype(np.float16))
    np.testing.assert_allclose(half["softmax_max_prob"], [0.7, 1 / 3], atol=2e-3)


@pytest.mark.parametrize(("rows", "match"), [
    ([[2.0, -1.0, 0.5], [0.7, 0.2, 0.1]], r"row 0 holds a negative value .*not logits"),
    ([[0.7, 0.2, 0.1], [3.0, 1.0, 0.5]], r"row 1 sums to 4\.5, not 1 .*not logits or scores"),
    ([[0.7, 0.2, 0.1], [0.5, 0.2, 0.0]], r"row 1 sums to 0\.7, not 1"),  # a truncated top-k
    ([[0.7, 0.2, 0.1], [np.nan, 0.5, 0.5]], r"row 1 holds a NaN or infinite value"),
])
def test_softmax_features_refuses_what_is_not_probabilities(rows, match) -> None:
    with pytest.raises(ValueError, match=match):
        featrisk.softmax_features(np.array(rows))


def test_fit_rejects_bad_outcomes(demo) -> None:
    features, _ = demo
    with pytest.raises(ValueError, match="correct has 3 values but X has"):
        featrisk.fit(features, [True, False, True])
    with pytest.raises(ValueError, match="need at least cv=5 correct and 5 wrong"):
        featrisk.fit(features.iloc[:20], np.ones(20, bool))
    with pytest.raises(featrisk.SchemaError, match="lacks 1 required column"):
        featrisk.fit(features.drop(columns="blur_laplacian_var"), np.ones(len(features), bool))


def test_predict_error_column_is_none_for_good_images(demo, fitted, tmp_path: Path) -> None:
    features, outcomes = demo
    missing = tmp_path / "missing.jpg"
    out = featrisk.predict([outcomes["path"].iloc[0], str(missing)], fitted)
    assert out["error"].iloc[0] is None
    assert "file not found" in out["error"].iloc[1]
    assert np.isnan(out["risk"].iloc[1]) and bool(out["flagged"].iloc[1])


@pytest.mark.parametrize(("scale", "offset"), [(1.0, 0.0), (7.0, 3.0), (0.2, -6.0)])
def test_platt_fit_reaches_the_optimum_for_wide_or_shifted_scores(scale: float, offset: float) -> None:
    # undamped Newton from (1, 0) diverged to |a| ~ 1e10 on scores like the middle case
    from featrisk.model import platt_fit

    rng = np.random.default_rng(3)
    raw = rng.normal(size=600) * scale + offset
    y = (rng.random(600) < 1 / (1 + np.exp(-(raw - offset) / scale))).astype(int)
    a, b = platt_fit(raw, y)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    p = 1 / (1 + np.exp(-(a * raw + b)))
    gradient = np.array([raw @ (p - t), (p - t).sum()])
    assert np.abs(gradient).max() < 1e-6 * len(raw)
    assert 0.5 / scale < a < 2.0 / scale


@pytest.fixture(scope="module")
def hybrid_stacked(demo):
    features, outcomes = demo
    # the demo records EfficientNet-Lite0's top-1 probability; a margin column rides along
    # and must stay out of the booster like every softmax_* column
    extra = pd.DataFrame({"softmax_max_prob": outcomes["max_prob"].to_numpy(),
                          "softmax_margin": outcomes["max_prob"].to_numpy() / 2,
                          "path": outcomes["path"]})
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), extra=extra,
                         groups=outcomes["crop"].to_numpy(), hybrid="stack")
    return model, extra


def test_hybrid_stack_keeps_the_booster_image_only(demo, hybrid_stacked) -> None:
    features, outcomes = demo
    model, extra = hybrid_stacked
    assert not any(f.startswith("softmax_") for f in model.feature_names_)
    assert model.hybrid_["columns"][0] == "softmax_max_prob"  # the strongest signal first
    assert model.hybrid_["coef"][0] < 0  # a more confident classifier lowers the risk
    # the risk is Platt's a * raw + b plus the signals' terms; TreeSHAP explains the image part
    a, b = model.calibration_
    raw = model.raw_risk(features, extra=extra)
    p = np.clip(extra["softmax_max_prob"].to_numpy(), 1e-6, 1 - 1e-6)
    terms = {"softmax_max_prob": np.log(p / (1 - p)), "softmax_margin": extra["softmax_margin"]}
    offset = sum(w * np.asarray(terms[c]) for c, w in zip(model.hybrid_["columns"],
                                                        model.hybrid_["coef"], strict=True))
    np.testing.assert_allclose(model.calibration_offset(features, extra=extra), offset)
    expected = 1 / (1 + np.exp(-(a * raw + b + offset)))
    np.testing.assert_allclose(model.predict_risk(features, extra=extra), expected, rtol=1e-12)
    contrib = model.explain(features.iloc[:20], extra=extra.iloc[:20])
    np.testing.assert_allclose(contrib[model.feature_names_].sum(axis=1) + contrib["base_value"],
                               raw[:20], rtol=1e-9, atol=1e-9)
    # out of fold, the stack ranks failures at least as well as the classifier's own score
    error = 1 - outcomes["correct"].to_numpy(int)
    assert model.training_summary_["hybrid"] == "stack"
    assert model.training_summary_["oof_auroc"] >= metrics.auroc(error, 1 - p) - 0.01


def test_hybrid_stack_survives_save_and_load(demo, hybrid_stacked, tmp_path) -> None:
    features, _ = demo
    model, extra = hybrid_stacked
    loaded = featrisk.load(model.save(tmp_path / "hybrid.json"))
    assert loaded.hybrid == "stack" and loaded.hybrid_ == model.hybrid_
    np.testing.assert_array_equal(loaded.predict_risk(features, extra=extra),
                                  model.predict_risk(features, extra=extra))
    with pytest.raises(featrisk.SchemaError, match="softmax_max_prob .*pass them with extra="):
        featrisk.predict(features, loaded)


def test_hybrid_stack_says_which_image_lacks_its_probability(demo, hybrid_stacked) -> None:
    """A NaN top-1 probability leaves that image without a risk: it is flagged and its error
    says why, and the other images are scored as before. A row missing from extra is not
    the same thing as a NaN in it, and each message says which it is."""
    features, _ = demo
    model, extra = hybrid_stacked
    gap = extra.iloc[:10].copy()
    gap.loc[3, "softmax_max_prob"] = np.nan
    out = featrisk.predict(features.iloc[:10], model, extra=gap)
    full = featrisk.predict(features.iloc[:10], model, extra=extra.iloc[:10])
    assert np.isnan(out["risk"][3]) and out["flagged"][3]
    assert out["error"][3].startswith(f"{features['path'][3]}: softmax_max_prob")
    assert "missing; the hybrid stack needs the classifier's signals" in out["error"][3]
    keep = np.arange(10) != 3
    np.testing.assert_array_equal(out["risk"][keep], full["risk"][keep])
    assert out["error"][keep].isna().all()
    with pytest.raises(ValueError, match=r"extra has no row for 1 path\(s\), e\.g\. .*"):
        featrisk.predict(features.iloc[:10], model, extra=gap.drop(index=5))


@pytest.mark.parametrize(("params", "extra_cols", "match"), [
    ({"hybrid": "stack"}, ["blur_score"], "needs classifier signals in extra"),
    ({"hybrid": "stack", "calibration": "stack"}, ["softmax_max_prob"], "cannot be combined"),
    ({"hybrid": "blend"}, ["softmax_max_prob"], "hybrid must be 'lightgbm' or 'stack', got 'blend'"),
], ids=["no-signal", "with-calibration-stack", "unknown"])
def test_hybrid_stack_refuses_what_it_cannot_fit(demo, params, extra_cols, match) -> None:
    features, outcomes = demo
    extra = pd.DataFrame({c: outcomes["max_prob"].to_numpy() for c in extra_cols})
    with pytest.raises(ValueError, match=match):
        featrisk.fit(features, outcomes["correct"].to_numpy(), extra=extra, **params)


def test_denoised_targets_learn_from_a_teacher_and_calibrate_on_outcomes(demo, fitted,
                                                                        tmp_path) -> None:
    features, outcomes = demo
    correct, groups = outcomes["correct"].to_numpy(), outcomes["crop"].to_numpy()
    assert fitted.training_summary_["denoise"] == 0.0  # the default: the outcomes alone
    assert fitted.booster_.params["objective"] == "binary"
    denoised = featrisk.fit(features, correct, groups=groups, denoise=0.5)
    assert denoised.training_summary_["denoise"] == 0.5
    assert denoised.booster_.params["objective"] == "cross_entropy"
    # both rank the real failures and are calibrated against the outcomes, not the targets
    for model in (fitted, denoised):
        assert model.training_summary_["oof_auroc"] > 0.7
        assert model.training_summary_["oof_ece"] < 0.1
    assert not np.allclose(fitted.predict_risk(features), denoised.predict_risk(features))
    contrib = denoised.explain(features.iloc[:20]).drop(columns="path").sum(axis=1)
    np.testing.assert_allclose(contrib, denoised.raw_risk(features.iloc[:20]), atol=1e-9)
    # no column to teach from: the outcomes alone, and the summary says so
    direct = featrisk.fit(features, correct, groups=groups, degradation=None, cv=3, denoise=0.5)
    assert direct.training_summary_["denoise"] == 0.0
    loaded = featrisk.load(denoised.save(tmp_path / "m.json"))
    assert loaded.denoise == 0.5 and loaded.training_summary_["denoise"] == 0.5
    np.testing.assert_array_equal(loaded.predict_risk(features.iloc[:30]),
                                  denoised.predict_risk(features.iloc[:30]))


@pytest.mark.parametrize("bad", [1.0, -0.1, "half", True])
def test_denoise_outside_its_range_is_refused(demo, bad) -> None:
    features, outcomes = demo
    with pytest.raises(ValueError, match="denoise must be a number in \\[0, 1\\)"):
        featrisk.fit(features.iloc[:200], outcomes["correct"].to_numpy()[:200], denoise=bad, cv=3)


def test_degradation_estimator_round_trip_predicts_the_same(tmp_path: Path, demo) -> None:
    from featrisk.degradation import DegradationEstimator

    features, outcomes = demo
    est = DegradationEstimator(n_estimators=20).fit(features, outcomes["degradation"],
                                                    outcomes["severity"])
    path = est.save(tmp_path / "estimator.json")
    loaded = DegradationEstimator.load(path)
    pd.testing.assert_frame_equal(est.transform(features), loaded.transform(features))
    assert "split_gain=" not in path.read_text()  # training statistics are not shipped


def test_hybrid_stack_keeps_the_signals_that_help_and_drops_noise(demo) -> None:
    """Forward selection on the cross-fitting folds: the classifier's top-1 probability is
    kept, a column of pure noise is not, and the fitted stack says which it kept."""
    features, outcomes = demo
    rng = np.random.default_rng(3)
    extra = pd.DataFrame({"softmax_max_prob": outcomes["max_prob"].to_numpy(),
                          "signal_noise": rng.normal(size=len(outcomes)),
                          "path": outcomes["path"]})
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), extra=extra, cv=3,
                         groups=outcomes["crop"].to_numpy(), hybrid="stack")
    assert model.hybrid_["columns"] == ["softmax_max_prob"]
    assert not any(stack.is_signal(f) for f in model.feature_names_)


def test_stack_selection_adds_columns_while_they_help() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    base, useful, noise = rng.normal(size=(3, n))
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.2 * base + 0.8 * useful)))).astype(float)
    x = np.column_stack([base, noise, 3 + 2 * useful])
    folds = np.arange(n) % 5
    chosen, coef, intercept = stack.fit(x, y, folds, keep=[0])
    assert chosen == [0, 2]
    np.testing.assert_allclose(coef, [1.2, 0.4], atol=0.12)  # raw scale: 0.8 / 2
    assert abs(intercept + 0.4 * 3) < 0.2
    assert stack.fit(x, y, folds)[0][0] == 0  # without keep, the strongest column first


def test_models_saved_with_the_single_column_stack_still_load(demo, hybrid_stacked,
                                                              tmp_path) -> None:
    from featrisk.modelfile import manifest_digest

    features, _ = demo
    model, extra = hybrid_stacked
    path = model.save(tmp_path / "h.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["manifest"]["hybrid"] = {"column": "softmax_max_prob", "coef": -0.5}
    doc["manifest_sha256"] = manifest_digest(doc["manifest"])
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = featrisk.load(path)
    assert loaded.hybrid_ == {"columns": ["softmax_max_prob"], "coef": [-0.5]}
    assert np.isfinite(loaded.predict_risk(features.iloc[:5], extra=extra.iloc[:5])).all()
    doc["manifest"]["hybrid"] = {"columns": ["blur_score"], "coef": [1.0]}
    doc["manifest_sha256"] = manifest_digest(doc["manifest"])
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(featrisk.ModelFileError, match="classifier-signal columns"):
        featrisk.load(path)


def test_estimator_weights_and_extra_rows_shift_what_it_learns(demo) -> None:
    """An image entered once per damage with weights learns the mixture: doubling the
    weight of one label's copies moves the probabilities toward it, and rows of ``also``
    join every fold except the one holding their source."""
    from featrisk.degradation import LabelledRows, cross_fit_transform, fit_estimator

    features, outcomes = demo
    deg, sev = outcomes["degradation"].to_numpy(str), outcomes["severity"].to_numpy(float)
    plain = fit_estimator(features, deg, sev, n_estimators=20)
    blur = np.flatnonzero(deg == "gaussian_blur")
    also = LabelledRows(features.iloc[blur], np.array(["none"] * len(blur)), np.zeros(len(blur)),
                        np.full(len(blur), 3.0), outcomes["crop"].to_numpy()[blur])
    mixed = fit_estimator(features, deg, sev, also=also, n_estimators=20)
    assert (mixed.transform(features.iloc[blur])["degradation_p_none"].mean()
            > plain.transform(features.iloc[blur])["degradation_p_none"].mean() + 0.1)
    with pytest.raises(ValueError, match="sample_weight must be finite, >= 0"):
        plain.fit(features, deg, sev, sample_weight=-np.ones(len(deg)))
    groups = outcomes["crop"].to_numpy()
    out = cross_fit_transform(features, deg, sev, groups=groups, also=also, n_estimators=20)
    base = cross_fit_transform(features, deg, sev, groups=groups, n_estimators=20)
    # the extra rows reach the fold estimators (the folds of their sources excepted)
    assert out.shape == base.shape and np.isfinite(out.to_numpy()).all()
    assert not np.allclose(out.to_numpy(), base.to_numpy())
