"""featrisk.signals: direction on synthetic data with a known truth, ranges, validation, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from featrisk.errors import ModelFileError, NotFittedError
from featrisk.metrics import auroc
from featrisk.signals import ConfusionScorer, EmbeddingScorer, choose_pnorm, logit_scores, mc_scores
from featrisk.signals import embedding as embedding_module

PROB_COLUMNS = ["signal_max_softmax", "signal_margin", "signal_entropy", "signal_doctor"]
LOGIT_COLUMNS = [*PROB_COLUMNS, "signal_energy", "signal_maxlogit_pnorm"]
MC_COLUMNS = ["signal_mc_max_softmax", "signal_mc_entropy", "signal_mc_mutual_information",
              "signal_mc_disagreement"]
EMB_COLUMNS = ["signal_knn_distance", "signal_knn_distance_class", "signal_mahalanobis",
               "signal_relative_distance"]


def _check_frame(df: pd.DataFrame, columns: list[str], n: int) -> None:
    assert list(df.columns) == columns
    assert df.index.equals(pd.RangeIndex(n))
    assert (df.dtypes == np.float64).all()
    assert np.isfinite(df.to_numpy()).all()


# ---------------------------------------------------------------- logits and probabilities
@pytest.mark.parametrize("column", LOGIT_COLUMNS, ids=LOGIT_COLUMNS)
def test_confident_row_scores_lower_risk_than_uniform_row(column):
    logits = np.array([[12.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    s = logit_scores(logits)[column]
    assert s[0] < s[1]


def test_logit_scores_extremes_and_ranges():
    k = 5
    df = logit_scores(probs=np.vstack([np.eye(k)[0], np.full(k, 1 / k)]))
    _check_frame(df, PROB_COLUMNS, 2)
    assert df.iloc[0].tolist() == pytest.approx([0.0, 0.0, 0.0, 0.0], abs=1e-12)
    assert df.iloc[1].tolist() == pytest.approx([1 - 1 / k, 1.0, 1.0, k - 1.0])
    z = np.random.default_rng(0).normal(scale=4.0, size=(500, k))
    df = logit_scores(z, pnorm_p=3)
    _check_frame(df, LOGIT_COLUMNS, 500)
    for col, high in [("signal_max_softmax", 1 - 1 / k), ("signal_margin", 1), ("signal_entropy", 1),
                      ("signal_doctor", k - 1)]:
        assert df[col].between(0, high).all(), col
    assert df["signal_maxlogit_pnorm"].between(-1, 0).all()


def test_probability_scores_from_logits_equal_those_from_their_softmax():
    z = np.random.default_rng(1).normal(size=(50, 7))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pd.testing.assert_frame_equal(logit_scores(z)[PROB_COLUMNS], logit_scores(probs=p), atol=1e-12)


def test_huge_logits_stay_finite_and_match_shifted_logits():
    z = np.random.default_rng(2).normal(size=(20, 10))
    big = logit_scores(z * 1e4 + 1e6)  # warnings are errors: overflow would fail here
    assert np.isfinite(big.to_numpy()).all()
    shifted, plain = logit_scores(z + 500.0), logit_scores(z)
    cols = [c for c in LOGIT_COLUMNS if c != "signal_energy"]
    pd.testing.assert_frame_equal(shifted[cols], plain[cols], atol=1e-9)
    assert (shifted["signal_energy"] - plain["signal_energy"]).to_numpy() == pytest.approx(-500.0)


def test_energy_and_maxlogit_pnorm_known_values():
    df = logit_scores(np.array([[1.0, 0.0], [3.0, 3.0]]), pnorm_p=2)
    assert df["signal_energy"].tolist() == pytest.approx([-np.log(np.e + 1), -(3 + np.log(2))])
    # centred logits (0.5, -0.5): max / 2-norm = 0.5 / sqrt(0.5); equal logits score 0
    assert df["signal_maxlogit_pnorm"].tolist() == pytest.approx([-np.sqrt(0.5), 0.0])


def test_logits_and_probs_together_read_each_where_documented():
    z = np.array([[2.0, 0.0, 0.0]])
    p = np.array([[0.5, 0.3, 0.2]])
    df = logit_scores(z, probs=p)
    assert df["signal_max_softmax"][0] == pytest.approx(0.5)
    assert df["signal_energy"][0] == pytest.approx(-np.log(np.exp(2) + 2))


def test_choose_pnorm_returns_the_candidate_with_the_best_auroc():
    rng = np.random.default_rng(3)
    z = rng.normal(scale=2.0, size=(400, 10))
    z[:, 0] += rng.normal(2.0, 1.5, size=400)
    correct = z.argmax(axis=1) == 0
    candidates = (1, 2, 3, 5, 8)
    p = choose_pnorm(z, correct, candidates=candidates)
    assert p in candidates
    score = {c: auroc(~correct, logit_scores(z, pnorm_p=c)["signal_maxlogit_pnorm"]) for c in candidates}
    assert score[p] == max(score.values())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "needs logits or probs"),
        ({"logits": np.zeros(4)},
         r"logits must have shape \(n_images, n_classes >= 2\); received shape \(4,\)"),
        ({"logits": np.zeros((3, 1))}, r"received shape \(3, 1\)"),
        ({"logits": [[0.0, np.nan], [1.0, 2.0], [np.inf, 0.0]]}, r"finite; .* rows \[0, 2\] \(2 in all\)"),
        ({"probs": [[0.5, 0.5], [1.2, -0.2]]}, r"probs must be >= 0; received a negative value in row 1"),
        ({"probs": [[0.5, 0.5], [0.9, 0.3]]}, r"sum to 1 .* row 1 do not \(the first sums to 1\.2\)"),
        ({"logits": np.zeros((2, 3)), "probs": np.full((2, 2), 0.5)}, "must have the same shape"),
        ({"logits": np.zeros((2, 3)), "pnorm_p": 0}, r"pnorm_p must be a finite number > 0.*received 0"),
        ({"probs": [["a", "b"]]}, "probs must be a numeric array"),
    ],
    ids=["neither", "1d", "one-class", "nan-inf", "negative", "bad-sum", "shape-mismatch", "pnorm-0",
         "strings"],
)
def test_logit_scores_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        logit_scores(**kwargs)


@pytest.mark.parametrize(
    ("correct", "candidates", "match"),
    [
        ([1, 1, 1, 1], (1, 2), "both outcomes.*all correct"),
        ([1, 0, 2, 1], (1, 2), r"0/1 or bool .* received 2 \(first shown\) in row 2"),
        ([1, 0], (1, 2), r"correct must be 1-D with one entry per row \(4\)"),
        ([1, 0, 1, 0], (), "at least one integer p >= 1"),
        ([1, 0, 1, 0], (2, 0.5), "candidates entries must be an integer >= 1; received 0.5"),
    ],
    ids=["one-outcome", "not-binary", "length", "no-candidates", "float-candidate"],
)
def test_choose_pnorm_refuses_bad_input(correct, candidates, match):
    with pytest.raises(ValueError, match=match):
        choose_pnorm(np.eye(4), correct, candidates=candidates)


# ---------------------------------------------------------------- Monte Carlo passes
def test_mutual_information_is_zero_when_passes_agree_and_positive_when_they_disagree():
    same = np.tile(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]]), (4, 1, 1))
    df = mc_scores(same)
    _check_frame(df, MC_COLUMNS, 2)
    assert df["signal_mc_mutual_information"].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert (df["signal_mc_disagreement"] == 0).all()
    split = np.array([[[0.9, 0.05, 0.05]], [[0.05, 0.9, 0.05]], [[0.9, 0.05, 0.05]]])
    df = mc_scores(split)
    assert df["signal_mc_mutual_information"][0] > 0.2
    assert df["signal_mc_disagreement"][0] == pytest.approx(1 / 3)


def test_mc_scores_ranges_and_agreement_with_single_pass_scores():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.full(6, 0.5), size=(8, 100))
    df = mc_scores(p)
    _check_frame(df, MC_COLUMNS, 100)
    assert df["signal_mc_max_softmax"].between(0, 1 - 1 / 6).all()
    assert df[["signal_mc_entropy", "signal_mc_mutual_information"]].stack().between(0, 1).all()
    assert df["signal_mc_disagreement"].between(0, 1 - 1 / 8).all()
    assert (df["signal_mc_mutual_information"] <= df["signal_mc_entropy"] + 1e-12).all()
    single = logit_scores(probs=p.mean(axis=0))
    assert df["signal_mc_entropy"].to_numpy() == pytest.approx(single["signal_entropy"].to_numpy())


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (np.full((1, 3, 2), 0.5), r"shape \(n_passes >= 2.*received shape \(1, 3, 2\).*one pass"),
        (np.full((3, 2), 0.5), r"received shape \(3, 2\)"),
        (np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.7, 0.7]]]), r"\(pass, image\) \(1, 1\)"),
    ],
    ids=["one-pass", "2d", "bad-sum"],
)
def test_mc_scores_refuses_bad_input(probs, match):
    with pytest.raises(ValueError, match=match):
        mc_scores(probs)


# ---------------------------------------------------------------- embeddings
def _clusters(rng: np.random.Generator, n: int, dim: int = 16, n_classes: int = 3):
    """Correct predictions lie around one centre per class, wrong ones in a cluster of their own."""
    centres = rng.normal(scale=4.0, size=(n_classes + 1, dim))
    y = rng.integers(0, n_classes, size=n)
    correct = rng.random(n) > 0.25
    x = np.where(correct[:, None], centres[y], centres[-1]) + rng.normal(size=(n, dim))
    return x, y, correct


@pytest.fixture(scope="module")
def fitted_embedding():
    x, y, correct = _clusters(np.random.default_rng(5), 400)
    return EmbeddingScorer(k=5, n_components=8).fit(x, y, correct), (x, y, correct)


def test_relative_distance_ranks_errors_when_mistakes_cluster_together():
    rng = np.random.default_rng(6)
    x, y, correct = _clusters(rng, 1200)
    scorer = EmbeddingScorer(k=10).fit(x[:600], y[:600], correct[:600])
    df = scorer.transform(x[600:], y[600:])
    _check_frame(df, EMB_COLUMNS, 600)
    assert auroc(~correct[600:], df["signal_relative_distance"]) > 0.8


def test_far_query_gets_larger_distances_than_a_reference(fitted_embedding):
    scorer, (x, y, correct) = fitted_embedding
    i = int(np.flatnonzero(correct)[0])
    far = x[i] + 100.0 * np.random.default_rng(7).normal(size=x.shape[1])
    df = EmbeddingScorer(k=1, n_components=8).fit(x, y, correct).transform(np.vstack([x[i], far]), y[[i, i]])
    assert df["signal_knn_distance"][0] == pytest.approx(0.0, abs=1e-6)
    assert df["signal_knn_distance"][1] > 0.1
    df = scorer.transform(np.vstack([x[i], far]), y[[i, i]])
    for col in ("signal_knn_distance", "signal_knn_distance_class", "signal_mahalanobis"):
        assert df[col][1] > df[col][0], col
    assert df[EMB_COLUMNS[:2]].stack().between(0, 2).all()


def test_mahalanobis_is_zero_at_a_class_mean_and_unseen_class_uses_nearest_mean(fitted_embedding):
    scorer, (x, y, correct) = fitted_embedding
    mean0 = x[correct & (y == 0)].mean(axis=0)
    df = scorer.transform(np.vstack([mean0, mean0]), [0, 99])
    assert df["signal_mahalanobis"][0] == pytest.approx(0.0, abs=1e-6)
    assert df["signal_mahalanobis"][1] == pytest.approx(0.0, abs=1e-6)
    assert df["signal_knn_distance_class"][1] == df["signal_knn_distance"][1]


def test_class_distance_falls_back_when_the_class_has_fewer_than_k_correct_references():
    rng = np.random.default_rng(8)
    x, y, correct = _clusters(rng, 300)
    y[:3], correct[:3] = 7, True  # class 7: three correct references, fewer than k = 5
    df = EmbeddingScorer(k=5).fit(x, y, correct).transform(x[:3], y[:3])
    np.testing.assert_array_equal(df["signal_knn_distance_class"], df["signal_knn_distance"])


def test_no_wrong_reference_gives_zero_relative_distance_and_few_wrong_ones_are_used():
    rng = np.random.default_rng(9)
    x, y, _ = _clusters(rng, 100)
    df = EmbeddingScorer().fit(x, y, np.ones(100, bool)).transform(x[:10], y[:10])
    assert (df["signal_relative_distance"] == 0).all()
    correct = np.ones(100, bool)
    correct[:2] = False  # two wrong references, fewer than k = 10
    df = EmbeddingScorer().fit(x, y, correct).transform(x[:10], y[:10])
    assert np.isfinite(df["signal_relative_distance"]).all() and df["signal_relative_distance"].ne(0).all()


def test_reference_is_capped_and_blocks_do_not_change_the_scores(monkeypatch):
    rng = np.random.default_rng(10)
    x, y, correct = _clusters(rng, 500, dim=12)
    scorer = EmbeddingScorer(max_reference=150, n_components=64, random_state=3).fit(x, y, correct)
    assert scorer.reference_.shape == (150, 12) and scorer.reference_.dtype == np.float32
    assert scorer.components_.shape == (12, 12)
    again = EmbeddingScorer(max_reference=150, n_components=64, random_state=3).fit(x, y, correct)
    np.testing.assert_array_equal(scorer.reference_, again.reference_)
    whole = scorer.transform(x, y)
    monkeypatch.setattr(embedding_module, "BLOCK_ENTRIES", 150 * 7)  # 7 query rows per block
    pd.testing.assert_frame_equal(scorer.transform(x, y), whole, atol=1e-12)


@pytest.mark.parametrize(("n", "dim"), [(400, 12), (30, 64)], ids=["tall-eigh", "wide-svd"])
def test_pca_axes_match_the_svd_of_the_centred_reference(n, dim):
    x = np.random.default_rng(11).normal(size=(n, dim)) * np.linspace(3.0, 0.5, dim)
    components, mean = embedding_module._pca(x.copy(), 8)
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(mean, x.mean(axis=0))
    np.testing.assert_allclose(np.abs((components * vt[:8]).sum(axis=1)), 1.0, atol=1e-8)
    EmbeddingScorer(k=3).fit(x, np.arange(n) % 2, np.arange(n) % 3 > 0).transform(x[:5], [0, 1, 0, 1, 0])


def test_embedding_scorer_json_round_trip_gives_identical_scores(fitted_embedding):
    scorer, (x, y, _) = fitted_embedding
    d = json.loads(json.dumps(scorer.to_dict()))
    assert d["format_version"] == 2 and d["params"]["k"] == 5
    back = EmbeddingScorer.from_dict(d)
    pd.testing.assert_frame_equal(back.transform(x, y), scorer.transform(x, y), check_exact=True)


def test_embedding_state_at_the_largest_default_size_saves_under_50_mb():
    # 25,000 validation embeddings of 1,280 dimensions (EfficientNet-Lite2's width): the
    # reference is capped at max_reference rows and n_components axes
    rng = np.random.default_rng(0)
    x = rng.standard_normal((25_000, 1280)).astype(np.float32)
    y = rng.integers(0, 1000, 25_000)
    scorer = EmbeddingScorer().fit(x, y, rng.random(25_000) < 0.8)
    text = json.dumps(scorer.to_dict())
    assert scorer.reference_.shape == (20_000, 128)
    assert len(text) < 50e6, f"{len(text) / 1e6:.1f} MB"


def test_embedding_scorer_refuses_bad_input_and_use_before_fit(fitted_embedding):
    scorer, (x, y, correct) = fitted_embedding
    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(embeddings, y_pred, correct\)"):
        EmbeddingScorer().transform(x, y)
    with pytest.raises(ValueError, match="embeddings must have 16 columns, as in fit; received 3"):
        scorer.transform(x[:, :3], y)
    with pytest.raises(ValueError, match="at least one reference image as right; received 0 of 400"):
        EmbeddingScorer().fit(x, y, np.zeros(400, bool))
    with pytest.raises(ValueError, match="k must be an integer >= 1; received 0"):
        EmbeddingScorer(k=0).fit(x, y, correct)
    with pytest.raises(ValueError, match=r"y_pred must hold integer class indices >= 0; received -1"):
        scorer.transform(x[:2], [0, -1])
    with pytest.raises(ValueError, match=r"y_pred must hold one entry per row \(400\); received 2"):
        EmbeddingScorer().fit(x, [0, 1], correct)
    d = scorer.to_dict()
    with pytest.raises(ModelFileError, match="inconsistent shapes"):
        EmbeddingScorer.from_dict({**d, "precision": d["precision"][:-1]})
    with pytest.raises(ModelFileError, match="format_version 1 or 2; received 3"):
        EmbeddingScorer.from_dict({**d, "format_version": 3})
    short = {**d["reference"], "base64": d["reference"]["base64"][:-8]}
    with pytest.raises(ModelFileError, match="missing or invalid entry"):
        EmbeddingScorer.from_dict({**d, "reference": short})
    with pytest.raises(ModelFileError, match="missing or invalid entry"):
        EmbeddingScorer.from_dict({**d, "reference": {**d["reference"], "base64": "%%%"}})
    # a version-1 dict (the reference as plain lists) still loads, to the same scores
    v1 = {**d, "format_version": 1, "reference": scorer.reference_.tolist()}
    pd.testing.assert_frame_equal(EmbeddingScorer.from_dict(v1).transform(x[:20], y[:20]),
                                  scorer.transform(x[:20], y[:20]))
    with pytest.raises(ModelFileError, match="'format': 'featrisk-embedding-scorer'"):
        EmbeddingScorer.from_dict(ConfusionScorer().fit([0, 1], [0, 1]).to_dict())


# ---------------------------------------------------------------- confusion matrix
def _confusion_data():
    # class 0: 20 predicted, 10 wrong (true 1); class 1: 20 predicted, 0 wrong; class 2: 1 predicted, wrong
    y_true = np.r_[np.zeros(10), np.ones(10), np.ones(20), 0].astype(int)
    y_pred = np.r_[np.zeros(20), np.ones(20), 2].astype(int)
    return y_true, y_pred


def test_class_with_many_errors_scores_higher_and_shrinkage_pulls_rare_classes_to_overall():
    y_true, y_pred = _confusion_data()
    scorer = ConfusionScorer(shrinkage=10.0).fit(y_true, y_pred, n_classes=4)
    overall = 11 / 41
    assert scorer.error_rate_ == pytest.approx(overall)
    df = scorer.transform([0, 1, 2, 3, 9])
    _check_frame(df, ["signal_class_error_rate"], 5)
    rate = df["signal_class_error_rate"].to_numpy()
    assert rate[0] > rate[1]
    assert rate[2] == pytest.approx((1 + 10 * overall) / (1 + 10))  # raw 1.0, pulled down
    assert rate[2] < 1.0 and abs(rate[2] - overall) < abs(1.0 - overall)
    assert rate[3] == pytest.approx(overall) and rate[4] == pytest.approx(overall)  # never predicted
    raw = ConfusionScorer(shrinkage=0).fit(y_true, y_pred).transform([0, 2])["signal_class_error_rate"]
    assert raw.tolist() == pytest.approx([0.5, 1.0])


def test_pair_confusion_from_probs_or_second_and_its_direction():
    y_true, y_pred = _confusion_data()
    scorer = ConfusionScorer(shrinkage=5.0).fit(y_true, y_pred, n_classes=4)
    probs = np.array([[0.6, 0.3, 0.1, 0.0], [0.6, 0.1, 0.3, 0.0], [0.1, 0.2, 0.3, 0.4]])
    y = [0, 0, 0]  # row 2: y_pred is not the argmax, the runner-up is the best other class (3)
    from_probs = scorer.transform(y, probs=probs)
    from_second = scorer.transform(y, second=[1, 2, 3])
    pd.testing.assert_frame_equal(from_probs, from_second)
    pair = from_probs["signal_pair_confusion"].to_numpy()
    pooled = 11 / (3 * 41)
    assert pair[0] == pytest.approx((10 + 5 * pooled) / (11 + 30 + 5))  # {0, 1}: 10 swaps in 41 images
    assert pair[0] > pair[1]
    assert from_probs[["signal_class_error_rate", "signal_pair_confusion"]].stack().between(0, 1).all()
    assert list(scorer.transform(y).columns) == ["signal_class_error_rate"]


def test_top_confused_pairs_lists_the_most_confused_first():
    y_true, y_pred = _confusion_data()
    table = ConfusionScorer().fit(y_true, y_pred).top_confused_pairs(n=5)
    assert list(table.columns) == ["class_a", "class_b", "count", "rate"]
    assert table.to_dict("records") == [
        {"class_a": 0, "class_b": 1, "count": 10, "rate": pytest.approx(10 / 41)},
        {"class_a": 0, "class_b": 2, "count": 1, "rate": pytest.approx(1 / 11)},
    ]
    assert len(ConfusionScorer().fit(y_true, y_pred).top_confused_pairs(n=1)) == 1


def test_confusion_scorer_json_round_trip_gives_identical_scores():
    y_true, y_pred = _confusion_data()
    scorer = ConfusionScorer(shrinkage=3.0).fit(y_true, y_pred)
    back = ConfusionScorer.from_dict(json.loads(json.dumps(scorer.to_dict())))
    np.testing.assert_array_equal(back.confusion_, scorer.confusion_)
    kwargs = {"second": [1, 0, 0, 1]}
    pd.testing.assert_frame_equal(back.transform([0, 1, 2, 3], **kwargs),
                                  scorer.transform([0, 1, 2, 3], **kwargs), check_exact=True)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: ConfusionScorer().transform([0]), NotFittedError, r"call fit\(y_true, y_pred\)"),
        (lambda s: s.transform([0], probs=[[0.5, 0.5]], second=[1]), ValueError, "not both"),
        (lambda s: s.transform([0, 1], second=[1, 1]), ValueError, r"second must differ.*row 1"),
        (lambda s: s.transform([5], probs=[[0.5, 0.5]]), ValueError, r"index a column of probs \(< 2\)"),
        (lambda s: ConfusionScorer().fit([0, 3], [0, 1], n_classes=3), ValueError,
         "n_classes must exceed every label; received n_classes=3 but label 3"),
        (lambda s: ConfusionScorer().fit([], []), ValueError, "at least one validation image"),
        (lambda s: ConfusionScorer(shrinkage=-1).fit([0], [0]), ValueError, "shrinkage must be"),
        (lambda s: ConfusionScorer().fit(["a"], ["b"]), ValueError, "map class names to indices"),
        (lambda s: ConfusionScorer.from_dict({**s.to_dict(), "confusion": [[1, -1], [0, 1]]}),
         ModelFileError, "matrix of counts >= 0"),
    ],
    ids=["not-fitted", "probs-and-second", "second-equals-pred", "pred-beyond-probs", "n-classes",
         "empty", "negative-shrinkage", "string-labels", "altered-dict"],
)
def test_confusion_scorer_refuses_bad_input(call, error, match):
    scorer = ConfusionScorer().fit(*_confusion_data())
    with pytest.raises(error, match=match):
        call(scorer)
