"""Risk reasons in plain words: every input column's phrases, the side of usual, the reasons."""

from __future__ import annotations

import numpy as np
import pytest

import featrisk
from featrisk import degrade, wording
from featrisk.features import COLUMNS
from featrisk.schema import feature_docs
from featrisk.signals import ConfusionScorer, EmbeddingScorer, logit_scores, mc_scores

#: 5th, 25th, 75th and 95th training percentiles used by the hand-made cases below.
Q = (0.2, 0.4, 0.6, 0.8)


def test_every_feature_column_has_two_plain_phrases() -> None:
    assert [c.name for c in COLUMNS] == list(featrisk.FEATURE_COLUMNS)
    bad = []
    for c in COLUMNS:
        for p in (c.low, c.high):
            plain = p.strip() == p and p == p.lower() and "_" not in p and len(p.split()) <= 6
            if not p or not plain or c.name in p:
                bad.append((c.name, p))
        if c.low == c.high:
            bad.append((c.name, "low == high"))
    assert not bad, bad
    assert wording.phrases("exposure_mean") == ("darker than usual", "brighter than usual")
    assert wording.phrases("jpeg_quality")[0] == "stronger compression than usual"


def test_phrases_tell_columns_apart() -> None:
    """No two columns share a phrase, so two reasons of one image never read the same."""
    every = [p for c in COLUMNS for p in (c.low, c.high)]
    repeated = sorted({p for p in every if every.count(p) > 1})
    assert not repeated, repeated


def test_feature_docs_carry_the_phrases() -> None:
    docs = feature_docs()
    assert {"low", "high"} <= set(docs.columns)
    assert docs.loc["exposure_mean", "low"] == "darker than usual"
    assert docs.loc["blur_laplacian_var", "high"] == "more fine detail than usual"
    assert (docs["low"] != docs["high"]).all()


def test_degradation_columns_read_as_damage() -> None:
    from featrisk.degradation import default_estimator

    assert set(degrade.FAMILIES) <= set(wording.DAMAGE_WORDS), "every family has words"
    for column in default_estimator().columns:
        low, high = wording.phrases(column)
        assert column not in low and column not in high and "_" not in low + high, column
    assert wording.phrases("degradation_p_motion_blur") == (
        "looks less like motion blur damage than usual", "looks like motion blur damage")
    assert wording.phrases("degradation_p_none") == ("looks damaged", "looks undamaged")
    assert wording.phrases("degradation_severity") == ("damage looks mild", "damage looks severe")
    # a family the words do not know yet still reads as damage, not as a column name
    assert wording.phrases("degradation_p_lens_flare")[1] == "looks like lens flare damage"


def test_classifier_signals_have_phrases() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(40, 5))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_pred = probs.argmax(axis=1)
    y_true = np.where(rng.random(40) < 0.7, y_pred, rng.integers(0, 5, 40))
    emb = rng.normal(size=(40, 8))
    frames = [
        featrisk.softmax_features(probs),
        logit_scores(logits=logits),
        mc_scores(np.stack([probs, probs[::-1]])),
        ConfusionScorer().fit(y_true, y_pred, n_classes=5).transform(y_pred, probs=probs),
        EmbeddingScorer(k=3, n_components=4).fit(emb, y_pred, y_true == y_pred).transform(emb, y_pred),
    ]
    columns = [c for f in frames for c in f.columns]
    assert len(columns) == 4 + 6 + 4 + 2 + 4
    assert not [c for c in columns if c not in wording.SIGNAL_PHRASES]
    for c in columns:
        low, high = wording.phrases(c)
        assert low and high and low != high and c not in low + high, c
    assert wording.phrases("softmax_max_prob")[0] == "classifier less confident than usual"
    # signal_* columns grow with the risk, softmax_max_prob falls with it
    assert wording.phrases("signal_max_softmax")[1] == wording.phrases("softmax_max_prob")[0]


def test_other_extra_columns_fall_back_to_their_name() -> None:
    assert wording.phrases("flare_score") == ("flare_score lower than usual",
                                               "flare_score higher than usual")
    assert wording.phrase("flare_score", 0.95, Q) == "flare_score higher than usual"


@pytest.mark.parametrize(("value", "level", "side"), [
    (0.1, "very low", "low"), (0.3, "low", "low"), (0.45, "typical", "low"),
    (0.55, "typical", "high"), (0.7, "high", "high"), (0.9, "very high", "high"),
], ids=["below-q05", "below-q25", "inside-below-middle", "inside-above-middle", "above-q75",
        "above-q95"])
def test_side_follows_the_training_quantiles(value: float, level: str, side: str) -> None:
    assert wording.level(value, Q) == level
    assert wording.side(value, Q) == side
    assert wording.phrase("exposure_mean", value, Q) == (
        "darker than usual" if side == "low" else "brighter than usual")


def test_ties_flags_and_missing_values() -> None:
    # a flag most training images share: the 5th and 95th percentiles break the tie
    assert wording.phrase("geometry_is_grey", 0.0, (0.0, 0.0, 0.0, 1.0)) == "in colour"
    assert wording.phrase("geometry_is_grey", 1.0, (0.0, 0.0, 0.0, 1.0)) == "black and white"
    assert wording.side(0.5, (0.5, 0.5, 0.5, 0.5)) is None
    assert wording.phrase("jpeg_quality", 90.0, (90.0,) * 4) == "jpeg_quality at its usual value"
    assert wording.phrase("jpeg_quality", float("nan"), Q) == "jpeg_quality missing"


def test_reasons_pick_positive_contributions_in_order_and_line_up() -> None:
    names = ["exposure_mean", "blur_laplacian_var", "degradation_severity", "flare_score"]
    contrib = np.array([
        [0.82, 0.31, -0.5, 0.05],   # dark, blurry: two reasons above the third
        [-0.1, -0.2, 0.4, 0.6],     # extra column first
        [-0.1, -0.2, -0.3, -0.4],   # nothing raised the risk
        [np.nan, 0.1, 0.1, 0.1],    # unreadable image
    ])
    values = np.array([[0.05, 0.1, 0.5, 0.45], [0.5, 0.5, 0.9, 0.9], [0.5] * 4, [0.5] * 4])
    words, columns = wording.reasons(names, contrib, values, [Q] * 4, top=2)
    assert words == [
        "darker than usual (+0.82); less fine detail than usual (+0.31)",
        "flare_score higher than usual (+0.60); damage looks severe (+0.40)",
        "", "",
    ]
    assert columns == ["exposure_mean; blur_laplacian_var", "flare_score; degradation_severity",
                       "", ""]
    words3, _ = wording.reasons(names, contrib, values, [Q] * 4, top=3)
    assert words3[0].endswith("; flare_score lower than usual (+0.05)")
