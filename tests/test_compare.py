"""featrisk.compare on the demo set's real images and outcomes, with classifier outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from featrisk import metrics
from featrisk.compare import IMAGE, STACK, compare


def _classifier_outputs(outcomes: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """Logits and embeddings of a 5-class problem whose errors follow the demo's outcomes:
    a wrong image's logits favour another class, and its confidence is lower on average."""
    rng = np.random.default_rng(seed)
    n, k = len(outcomes), 5
    y_true = rng.integers(0, k, n)
    wrong = ~outcomes["correct"].to_numpy(bool)
    y_pred = np.where(wrong, (y_true + rng.integers(1, k, n)) % k, y_true)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y_pred] += np.where(wrong, 1.0, 2.5) + rng.normal(0, 1, n)
    centres = rng.normal(0, 1, (k, 16))
    emb = centres[y_true] + rng.normal(0, 1.2, (n, 16)) + wrong[:, None] * rng.normal(0, 1, (n, 16))
    return {"logits": logits, "embeddings": emb, "y_true": y_true, "y_pred": y_pred}


@pytest.fixture(scope="module")
def compared(demo_set):
    _, features, outcomes = demo_set
    out = _classifier_outputs(outcomes)
    res = compare(features, y_true=out["y_true"], y_pred=out["y_pred"], logits=out["logits"],
                  embeddings=out["embeddings"], groups=outcomes["crop"], cv=3, n_boot=50)
    return res, features, outcomes, out


def test_every_approach_is_scored_out_of_fold_on_every_subset(compared) -> None:
    res, features, outcomes, out = compared
    error = (out["y_true"] != out["y_pred"]).astype(int)
    np.testing.assert_array_equal(error, ~outcomes["correct"].to_numpy(bool))
    expected = {IMAGE, STACK, "signal_max_softmax", "signal_margin", "signal_energy",
                "signal_maxlogit_pnorm", "signal_knn_distance", "signal_mahalanobis",
                "signal_class_error_rate"}
    assert expected <= set(res.scores.columns)
    assert res.scores.notna().all().all() and len(res.scores) == len(features)
    table = res.table.set_index(["approach", "subset"])
    for approach in res.scores:
        row = table.loc[(approach, "all")]
        assert row["auroc"] == pytest.approx(metrics.auroc(error, res.scores[approach]))
        assert row["auroc_low"] <= row["auroc"] <= row["auroc_high"]
        assert 0 <= row["caught"] <= 1
    # the split is classifier-free and covers every image once
    parts = table.xs(IMAGE, level="approach")
    assert parts.loc["looks damaged", "n"] + parts.loc["looks clean", "n"] == len(features)
    assert parts.loc["looks damaged", "error_rate"] > parts.loc["looks clean", "error_rate"]


def test_the_stack_and_the_sentence(compared) -> None:
    res, *_ = compared
    diff = res.stack_minus_best
    every = res.table[res.table["subset"] == "all"].set_index("approach")["auroc"]
    assert diff["best_single"] == every.drop(STACK).idxmax()
    assert diff["value"] == pytest.approx(every[STACK] - every[diff["best_single"]])
    assert every[STACK] > every.drop(STACK).max() - 0.02  # never far below the best single
    assert res.recommendation.startswith(("Use the stacked hybrid", f"Use {diff['best_single']}"))
    assert f"{diff['value']:+.3f}" in res.recommendation
    assert set(res.classes.columns) == {"true_class", "n", "error_rate"}
    assert res.classes["n"].sum() == len(res.scores) and len(res.pairs) > 0


def test_classifier_outputs_alone_and_clear_errors(demo_set) -> None:
    _, features, outcomes = demo_set
    out = _classifier_outputs(outcomes, seed=1)
    res = compare(correct=outcomes["correct"], logits=out["logits"], groups=outcomes["source"],
                  cv=3, n_boot=20)
    assert IMAGE not in res.scores and set(res.table["subset"]) == {"all"}
    with pytest.raises(ValueError, match="logits has 10 rows but there are"):
        compare(correct=outcomes["correct"], logits=out["logits"][:10])
    with pytest.raises(ValueError, match="needs something to score"):
        compare(correct=outcomes["correct"])
    with pytest.raises(ValueError, match="embeddings need the predicted classes"):
        compare(correct=outcomes["correct"], embeddings=out["embeddings"])
    with pytest.raises(ValueError, match="X holds 5 images but correct has"):
        compare(features.iloc[:5], correct=outcomes["correct"])
    # some of the estimator's columns but not all (an estimator that knew fewer damage types):
    # refused by name, never topped up with the shipped estimator's (which would duplicate)
    partial = features.assign(degradation_p_color_cast=0.5, degradation_p_contrast=0.5)
    with pytest.raises(ValueError, match="2 of the degradation estimator's .* give all of them"):
        compare(partial, correct=outcomes["correct"], cv=3, n_boot=5)


def test_cli_compare_writes_the_table_and_says_what_to_use(demo_set, tmp_path, capsys) -> None:
    from featrisk.cli import main

    _, features, outcomes = demo_set
    out = _classifier_outputs(outcomes)
    features.to_parquet(tmp_path / "features.parquet")
    np.save(tmp_path / "logits.npy", out["logits"])
    pd.DataFrame({"path": features["path"], "y_true": out["y_true"], "y_pred": out["y_pred"],
                  "crop": outcomes["crop"]}).to_csv(tmp_path / "labels.csv", index=False)
    args = ["compare", "--labels", str(tmp_path / "labels.csv"), "--features",
            str(tmp_path / "features.parquet"), "--logits", str(tmp_path / "logits.npy"),
            "--groups", "crop", "--cv", "3", "--n-boot", "20", "--out", str(tmp_path / "c.csv")]
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "c.csv")
    assert {IMAGE, STACK, "signal_energy"} <= set(table["approach"])
    printed = capsys.readouterr().out
    assert "Use " in printed and f"{len(features)} images" in printed
    bad = [*args[:5], "--logits", str(tmp_path / "missing.npy"), "--out", str(tmp_path / "d.csv")]
    assert main(bad) == 2
    assert "--logits" in capsys.readouterr().err and not (tmp_path / "d.csv").exists()


def test_precomputed_mc_scores_and_own_subsets() -> None:
    """MC scores given as the table mc_scores made equal the passes themselves, and a
    user's own split is reported beside "all"."""
    from featrisk.signals import mc_scores

    rng = np.random.default_rng(0)
    n, k = 300, 4
    logits = rng.normal(size=(n, k)) * 2
    y_true = rng.integers(0, k, n)
    passes = np.stack([np.exp(lg) / np.exp(lg).sum(1, keepdims=True)
                       for lg in logits[None] + rng.normal(scale=0.5, size=(6, n, k))])
    mine = np.arange(n) % 3 == 0
    a = compare(y_true=y_true, logits=logits, mc_probs=passes, cv=3, n_boot=20,
                subsets={"every third": mine})
    b = compare(y_true=y_true, logits=logits, mc_probs=mc_scores(passes), cv=3, n_boot=20)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    third = a.table[a.table["subset"] == "every third"]
    assert len(third) == len(a.scores.columns) and (third["n"] == mine.sum()).all()
    with pytest.raises(ValueError, match=r"subsets\['bad'\] must be 300 booleans"):
        compare(y_true=y_true, logits=logits, cv=3, n_boot=20, subsets={"bad": np.ones(10, bool)})
