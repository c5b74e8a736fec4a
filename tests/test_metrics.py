"""Tests for featrisk.metrics: hand-computed cases, brute-force references, bootstrap, errors."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from featrisk import metrics as m

# error=[0,0,1,1], risk=[.1,.4,.35,.8]: 3 of 4 (error, correct) pairs ordered right.
HAND_E = [0, 0, 1, 1]
HAND_R = [0.1, 0.4, 0.35, 0.8]

# Budget case: 10 images, 4 errors, a tie at 0.8.
BUD_R = [0.9, 0.8, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01]
BUD_E = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]


def _synthetic(n: int, seed: int, *, decimals: int = 2):
    """Errors at ~25 %, risk informative but noisy, rounded so that ties occur."""
    rng = np.random.default_rng(seed)
    error = rng.random(n) < 0.25
    risk = np.clip(0.2 + 0.35 * error + rng.normal(0, 0.2, n), 0, 1).round(decimals)
    return error, risk


# ---------------------------------------------------------------- brute-force references
def _auroc_pairs(e, r):
    e, r = np.asarray(e, bool), np.asarray(r, float)
    d = r[e][:, None] - r[~e][None, :]
    return float(((d > 0) + 0.5 * (d == 0)).mean())


def _ap_loop(e, r):
    e, r = np.asarray(e, float), np.asarray(r, float)
    ap, prev_recall = 0.0, 0.0
    for t in np.unique(r)[::-1]:
        sel = r >= t
        recall = e[sel].sum() / e.sum()
        ap += (recall - prev_recall) * e[sel].mean()
        prev_recall = recall
    return ap


def _aurc_loop(e, r):
    e, r = np.asarray(e, float), np.asarray(r, float)
    rs = np.sort(r)
    return float(np.mean([e[r <= rs[i]].mean() for i in range(r.size)]))


def _ece_loop(e, r, n_bins):
    e, r = np.asarray(e, float), np.asarray(r, float)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for k in range(n_bins):
        sel = (r > edges[k]) & (r <= edges[k + 1]) if k else (r <= edges[1])
        if sel.any():
            total += sel.sum() * abs(r[sel].mean() - e[sel].mean())
    return total / r.size


# ---------------------------------------------------------------- ranking
def test_hand_case_values():
    assert m.auroc(HAND_E, HAND_R) == pytest.approx(0.75)
    # descending: 0.8 (err) P=1 R=.5; 0.4 (ok); 0.35 (err) P=2/3 R=1 -> .5 + .5 * 2/3
    assert m.auprc(HAND_E, HAND_R) == pytest.approx(5 / 6)
    # ascending selective risks 0, 1/2, 1/3, 1/2
    assert m.aurc(HAND_E, HAND_R) == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 2) / 4)
    # oracle: coverage 3/4 -> 1/3, coverage 1 -> 1/2
    assert m.aurc_oracle(HAND_E) == pytest.approx((1 / 3 + 1 / 2) / 4)


def test_perfect_and_reversed_ranking():
    e = np.array([0, 0, 0, 1, 0, 1, 0, 0, 1, 0])
    perfect = e + np.linspace(0.0, 0.5, e.size)  # every error above every correct image
    assert m.auroc(e, perfect) == 1.0
    assert m.auprc(e, perfect) == 1.0
    assert m.aurc(e, perfect) == pytest.approx(m.aurc_oracle(e))
    assert m.auroc(e, -perfect) == 0.0
    assert m.aurc(e, -perfect) > m.aurc(e, perfect)


def test_all_equal_risk_is_chance():
    e = [0, 1, 0, 0, 1, 0]
    r = [0.3] * 6
    assert m.auroc(e, r) == 0.5
    assert m.auprc(e, r) == pytest.approx(1 / 3)  # base rate: one threshold, P = 1/3, R = 1
    assert m.aurc(e, r) == pytest.approx(1 / 3)  # all accepted together at every coverage
    assert len(m.risk_coverage(e, r)) == 1


def test_bool_and_int_error_agree():
    e, r = _synthetic(200, 3)
    assert m.auroc(e, r) == m.auroc(e.astype(int), list(r))
    assert m.aurc(e, r) == m.aurc(e.astype(float), pd.Series(r))


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("decimals", [1, 3], ids=["many_ties", "few_ties"])
def test_matches_brute_force(seed, decimals):
    e, r = _synthetic(150, seed, decimals=decimals)
    assert m.auroc(e, r) == pytest.approx(_auroc_pairs(e, r), abs=1e-12)
    assert m.auprc(e, r) == pytest.approx(_ap_loop(e, r), abs=1e-12)
    assert m.aurc(e, r) == pytest.approx(_aurc_loop(e, r), abs=1e-12)
    for n_bins in (1, 7, 15):
        assert m.ece(e, r, n_bins=n_bins) == pytest.approx(_ece_loop(e, r, n_bins), abs=1e-12)


@pytest.mark.parametrize(
    "transform", [np.exp, lambda x: 3 * x - 1, np.sqrt], ids=["exp", "affine", "sqrt"]
)
def test_ranking_scores_ignore_monotone_transforms(transform):
    e, r = _synthetic(300, 5)
    for fn in (m.auroc, m.auprc, m.aurc):
        assert fn(e, transform(r)) == pytest.approx(fn(e, r), abs=1e-12)


def test_auroc_symmetry_under_negation():
    e, r = _synthetic(300, 6)
    assert m.auroc(e, -r) == pytest.approx(1 - m.auroc(e, r), abs=1e-12)


def test_sklearn_cross_check():
    skm = pytest.importorskip("sklearn.metrics")
    e, r = _synthetic(500, 7)
    assert m.auroc(e, r) == pytest.approx(skm.roc_auc_score(e, r), abs=1e-12)
    assert m.auprc(e, r) == pytest.approx(skm.average_precision_score(e, r), abs=1e-12)


# ---------------------------------------------------------------- selective risk
def test_risk_coverage_hand_case():
    rc = m.risk_coverage(HAND_E, HAND_R)
    assert list(rc.columns) == ["coverage", "risk", "threshold"]
    np.testing.assert_allclose(rc["coverage"], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rc["risk"], [0, 1 / 2, 1 / 3, 1 / 2])
    np.testing.assert_allclose(rc["threshold"], [0.1, 0.35, 0.4, 0.8])


def test_risk_coverage_groups_ties_and_integrates_to_aurc():
    e, r = [0, 1, 0, 1, 1], [0.2, 0.2, 0.5, 0.9, 0.9]
    rc = m.risk_coverage(e, r)
    np.testing.assert_allclose(rc["coverage"], [0.4, 0.6, 1.0])
    np.testing.assert_allclose(rc["risk"], [1 / 2, 1 / 3, 3 / 5])
    step_area = float((np.diff(np.r_[0.0, rc["coverage"]]) * rc["risk"]).sum())
    assert m.aurc(e, r) == pytest.approx(step_area)


def test_aurc_oracle_bounds_and_extremes():
    e, r = _synthetic(400, 8)
    assert m.aurc_oracle(e) <= m.aurc(e, r)
    assert m.aurc_oracle([0, 0, 0]) == 0.0
    assert m.aurc_oracle([1, 1]) == 1.0
    rate = float(np.mean(e))  # continuous approximation of Geifman et al.
    assert m.aurc_oracle(e) == pytest.approx(rate + (1 - rate) * math.log(1 - rate), abs=0.01)


# ---------------------------------------------------------------- calibration
def test_ece_perfectly_calibrated_is_zero():
    # 1 error in 4 at risk 0.25, 3 errors in 4 at risk 0.75
    e = [1, 0, 0, 0, 1, 1, 1, 0]
    r = [0.25] * 4 + [0.75] * 4
    assert m.ece(e, r) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("error", "risk", "n_bins", "expected"),
    [
        ([1, 0, 1, 0], [0.2] * 4, 15, 0.3),  # says 20 %, is 50 %
        ([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9], 10, 0.1),  # both bins off by 0.1
        ([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9], 10, (0.5 * 0.4 + 0.5 * 0.1)),
        ([0, 1], [0.4, 0.6], 1, 0.0),  # one bin: mean risk 0.5 = error rate 0.5
    ],
    ids=["overconfident", "two_bins", "unequal_bins", "single_bin"],
)
def test_ece_known_miscalibration(error, risk, n_bins, expected):
    assert m.ece(error, risk, n_bins=n_bins) == pytest.approx(expected)


def test_calibration_table_hand_case_and_bin_edges():
    # 0 and 0.1 fall in bin 0 (bins are right-closed), 0.15 in bin 1, 1.0 in the last bin
    table = m.calibration_table([0, 1, 0, 1], [0.0, 0.1, 0.15, 1.0], n_bins=10)
    assert list(table.columns) == ["bin", "mean_risk", "error_rate", "count"]
    assert table["bin"].tolist() == [0, 1, 9]
    assert table["count"].tolist() == [2, 1, 1]
    np.testing.assert_allclose(table["mean_risk"], [0.05, 0.15, 1.0])
    np.testing.assert_allclose(table["error_rate"], [0.5, 0.0, 1.0])


def test_ece_equals_weighted_calibration_table_gap():
    e, r = _synthetic(500, 9)
    t = m.calibration_table(e, r, n_bins=12)
    gap = (t["count"] * (t["mean_risk"] - t["error_rate"]).abs()).sum() / t["count"].sum()
    assert m.ece(e, r, n_bins=12) == pytest.approx(gap, abs=1e-12)


# ---------------------------------------------------------------- decisions
def test_budget_table_tiny_case():
    t = m.budget_table(BUD_E, BUD_R, flag_rates=(0.1, 0.2, 0.5))
    assert list(t.columns) == [
        "flag_rate",
        "threshold",
        "n_flagged",
        "flagged_share",
        "accepted_accuracy",
        "errors_caught",
    ]
    np.testing.assert_allclose(t["threshold"], [0.9, 0.8, 0.4])
    assert t["n_flagged"].tolist() == [1, 3, 5]  # 0.2 -> 2 wanted, tie at 0.8 flags 3
    np.testing.assert_allclose(t["flagged_share"], [0.1, 0.3, 0.5])
    np.testing.assert_allclose(t["accepted_accuracy"], [6 / 9, 5 / 7, 4 / 5])
    np.testing.assert_allclose(t["errors_caught"], [1 / 4, 2 / 4, 3 / 4])


def test_budget_table_edge_cases():
    t = m.budget_table([0, 1, 0], [0.1, 0.2, 0.3], flag_rates=(1.0,))
    assert t["n_flagged"].iloc[0] == 3
    assert math.isnan(t["accepted_accuracy"].iloc[0])
    t = m.budget_table([0, 0, 0], [0.1, 0.2, 0.3], flag_rates=(0.34,))
    assert math.isnan(t["errors_caught"].iloc[0])
    # 0.1 * 30 is 3.0000000000000004 in floating point: still 3 flagged, not 4
    assert m.budget_table([0] * 30, np.arange(30), flag_rates=(0.1,))["n_flagged"].iloc[0] == 3


@pytest.mark.parametrize(
    ("flag_rate", "expected"),
    [(0.1, 0.9), (0.15, 0.8), (0.2, 0.8), (0.3, 0.8), (0.5, 0.4), (0.95, 0.01)],
    ids=["top1", "ceil_to_2", "tie_boundary", "tie_exact", "half", "almost_all"],
)
def test_threshold_for_flag_rate(flag_rate, expected):
    t = m.threshold_for(BUD_R, BUD_E, flag_rate=flag_rate)
    assert t == expected
    flagged_share = np.mean(np.asarray(BUD_R) >= t)
    assert flagged_share >= flag_rate  # at least the share asked for, more on ties
    table = m.budget_table(BUD_E, BUD_R, flag_rates=(flag_rate,))
    assert table["threshold"].iloc[0] == t  # one rule for both


def test_threshold_for_flag_rate_at_ties_flags_whole_tie():
    r = [0.9, 0.8, 0.8, 0.1]
    t = m.threshold_for(r, [1, 0, 1, 0], flag_rate=0.5)
    assert t == 0.8
    assert np.mean(np.asarray(r) >= t) == 0.75


@pytest.mark.parametrize(
    ("target", "expected"),
    [(0.5, math.inf), (0.6, math.inf), (0.7, 0.8), (0.8, 0.5), (0.84, 0.2), (1.0, 0.2)],
    ids=["flag_none", "exact_all", "after_tie", "largest_of_two", "non_monotone", "perfect"],
)
def test_threshold_for_target_accuracy(target, expected):
    # accepted accuracy for risk < t: inf .6, .9 .667, .8 .714, .5 .833, .4 .8, .3 .75, .2 1
    t = m.threshold_for(BUD_R, BUD_E, target_accuracy=target)
    assert t == expected
    accepted = np.asarray(BUD_R) < t
    assert 1 - np.asarray(BUD_E)[accepted].mean() >= target


def test_threshold_for_unreachable_target_reports_best():
    with pytest.raises(ValueError, match=r"target_accuracy=0\.9 is unreachable.*0\.6667"):
        m.threshold_for([0.1, 0.2, 0.3], [1, 0, 0], target_accuracy=0.9)


# ---------------------------------------------------------------- bootstrap
def test_bootstrap_interval_contains_point_and_narrows_with_n():
    widths = []
    for n in (200, 5000):
        e, r = _synthetic(n, 10)
        point, low, high = m.bootstrap_ci(m.auroc, e, r, n_boot=300)
        assert point == m.auroc(e, r)
        assert low <= point <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2


def test_bootstrap_is_seeded():
    e, r = _synthetic(300, 11)
    assert m.bootstrap_ci(m.aurc, e, r, n_boot=50, seed=4) == m.bootstrap_ci(
        m.aurc, e, r, n_boot=50, seed=4
    )
    assert m.bootstrap_ci(m.aurc, e, r, n_boot=50, seed=4) != m.bootstrap_ci(
        m.aurc, e, r, n_boot=50, seed=5
    )


@pytest.mark.parametrize("metric", [m.auroc, m.auprc, m.aurc, m.ece], ids=lambda f: f.__name__)
@pytest.mark.parametrize("grouped", [False, True], ids=["rows", "groups"])
def test_vectorised_bootstrap_equals_per_resample_calls(metric, grouped):
    e, r = _synthetic(240, 12)
    groups = np.arange(240) // 3 if grouped else None
    fast = m.bootstrap_ci(metric, e, r, n_boot=100, groups=groups)
    slow = m.bootstrap_ci(lambda a, b: metric(a, b), e, r, n_boot=100, groups=groups)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_singleton_groups_equal_row_bootstrap():
    e, r = _synthetic(100, 13)
    rows = m.bootstrap_ci(m.auroc, e, r, n_boot=50)
    assert m.bootstrap_ci(m.auroc, e, r, n_boot=50, groups=np.arange(100)) == rows


def test_grouped_bootstrap_resamples_whole_groups():
    groups = np.repeat(np.arange(40), 3)  # 40 source images, 3 variants each

    def whole_groups(g):
        return float(np.all(np.unique(g, return_counts=True)[1] % 3 == 0))

    def n_distinct(g):
        return float(np.unique(g).size)

    assert m.bootstrap_ci(whole_groups, groups, n_boot=200, groups=groups) == (1.0, 1.0, 1.0)
    assert m.bootstrap_ci(whole_groups, groups, n_boot=200)[1] == 0.0  # rows split groups
    point, low, high = m.bootstrap_ci(n_distinct, groups, n_boot=200, groups=groups)
    assert point == 40 and high < 40  # resampling with replacement drops some groups
    assert 20 < low  # ~ 40 * (1 - 1/e) = 25 distinct expected


def test_bootstrap_skips_single_class_resamples():
    e = np.zeros(20, int)
    e[0] = 1
    r = np.linspace(0, 1, 20)
    point, low, high = m.bootstrap_ci(m.auroc, e, r, n_boot=200)  # ~1/3 draw no error
    assert point == 0.0 and low == high == 0.0
    assert m.bootstrap_ci(lambda a, b: m.auroc(a, b), e, r, n_boot=200) == (point, low, high)


def test_bootstrap_fails_when_every_resample_fails():
    def fails_on_repeats(x):  # every resample of 20 rows repeats one, p = 1 - 20!/20**20
        if np.unique(x).size != x.size:
            raise ValueError("repeated row")
        return 1.0

    with pytest.raises(ValueError, match="metric failed on all 5 resamples"):
        m.bootstrap_ci(fails_on_repeats, np.arange(20), n_boot=5)


def test_bootstrap_speed_10k_rows():
    e, r = _synthetic(10_000, 14, decimals=3)
    start = time.perf_counter()
    m.bootstrap_ci(m.auroc, e, r, n_boot=1000)
    assert time.perf_counter() - start < 10  # 0.2-0.7 s measured; guards the vectorised path


# ---------------------------------------------------------------- summary
def test_summary_contents_and_json():
    e, r = _synthetic(400, 15)
    groups = np.arange(400) // 2
    s = m.summary(e, r, groups=groups, n_boot=100, flag_rates=(0.1, 0.3))
    assert s["n"] == 400 and s["base_error_rate"] == pytest.approx(np.mean(e))
    for name, fn in (("auroc", m.auroc), ("auprc", m.auprc), ("aurc", m.aurc), ("ece", m.ece)):
        assert set(s[name]) == {"value", "low", "high"}
        assert s[name]["value"] == pytest.approx(fn(e, r))
        assert s[name]["low"] <= s[name]["value"] <= s[name]["high"]
        ci = m.bootstrap_ci(fn, e, r, n_boot=100, groups=groups)
        assert (s[name]["value"], s[name]["low"], s[name]["high"]) == ci
    assert s["aurc_oracle"] == pytest.approx(m.aurc_oracle(e))
    assert [row["flag_rate"] for row in s["budget_table"]] == [0.1, 0.3]
    json.dumps(s)


# ---------------------------------------------------------------- errors
E2, R2 = [0, 1], [0.1, 0.2]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(
            lambda: m.auroc([0, 0, 0], [0.1, 0.2, 0.3]),
            r"auroc is undefined when only one class.*all 0",
            id="auroc_all_correct",
        ),
        pytest.param(
            lambda: m.auroc([1, 1], R2), r"only one class is present.*all 1", id="auroc_all_wrong"
        ),
        pytest.param(
            lambda: m.auprc([0, 0], R2), r"auprc is undefined when only one", id="auprc_no_error"
        ),
        pytest.param(
            lambda: m.summary([0, 0], R2, n_boot=5), r"auroc is undefined", id="summary_one_class"
        ),
        pytest.param(
            lambda: m.auroc([0, 1, 1], [0.1, np.nan, 0.3]),
            r"risk must be finite, no NaN.*index \[1\]",
            id="nan_risk",
        ),
        pytest.param(
            lambda: m.aurc(E2, [np.inf, 0.3]), r"finite.*drop unreadable rows", id="inf_risk"
        ),
        pytest.param(
            lambda: m.auroc([0, 1, 1], R2), r"same length; received 3 and 2", id="lengths_differ"
        ),
        pytest.param(lambda: m.auroc([], []), r"must not be empty", id="empty"),
        pytest.param(
            lambda: m.auroc([0, 2, 1], [0.1, 0.2, 0.3]),
            r"error must hold only 0/1.*\[2\] at index \[1\]",
            id="error_not_binary",
        ),
        pytest.param(
            lambda: m.auroc(["a", "b"], R2), r"bool or 0/1.*dtype <U1", id="error_strings"
        ),
        pytest.param(
            lambda: m.auroc(pd.Series([0, pd.NA, 1], dtype="Int64"), [0.1, 0.2, 0.3]),
            r"error must hold only 0/1.*\[nan\] at index \[1\]",
            id="error_missing",
        ),
        pytest.param(lambda: m.auroc(E2, ["x", "y"]), r"risk must be numeric", id="risk_strings"),
        pytest.param(
            lambda: m.auroc([E2], [R2]), r"error must be 1-D; received shape \(1, 2\)", id="2d"
        ),
        pytest.param(
            lambda: m.ece(E2, [0.5, 1.2]), r"in \[0, 1\].*\[1\.2\]", id="ece_risk_above_one"
        ),
        pytest.param(
            lambda: m.ece(E2, R2, n_bins=0),
            r"n_bins must be an integer >= 1; received 0",
            id="bins0",
        ),
        pytest.param(
            lambda: m.calibration_table(E2, R2, n_bins=2.5),
            r"n_bins must be an integer >= 1; received 2\.5",
            id="bins_float",
        ),
        pytest.param(
            lambda: m.budget_table(E2, R2, flag_rates=(0.1, 1.5)),
            r"flag_rates entries must be a number in \(0, 1\]; received 1\.5",
            id="flag_rates_above_one",
        ),
        pytest.param(
            lambda: m.budget_table(E2, R2, flag_rates=()), r"at least one", id="flag_rates_empty"
        ),
        pytest.param(
            lambda: m.threshold_for(R2, E2),
            r"exactly one of flag_rate or target_accuracy; received neither",
            id="threshold_neither",
        ),
        pytest.param(
            lambda: m.threshold_for(R2, E2, flag_rate=0.1, target_accuracy=0.9),
            r"exactly one of flag_rate or target_accuracy; received both",
            id="threshold_both",
        ),
        pytest.param(
            lambda: m.threshold_for(R2, E2, flag_rate=1.0),
            r"flag_rate must be a number in \(0, 1\); received 1\.0",
            id="flag_rate_one",
        ),
        pytest.param(
            lambda: m.threshold_for(R2, E2, target_accuracy=0),
            r"target_accuracy must be a number in \(0, 1\]; received 0",
            id="target_zero",
        ),
        pytest.param(
            lambda: m.threshold_for([0.1, np.nan], E2, flag_rate=0.5),
            r"risk_oof must be finite",
            id="threshold_nan",
        ),
        pytest.param(
            lambda: m.threshold_for(R2, [0, 1, 1], flag_rate=0.5),
            r"error_oof and risk_oof must have the same length",
            id="threshold_lengths",
        ),
        pytest.param(
            lambda: m.bootstrap_ci(m.auroc, E2, R2, n_boot=0),
            r"n_boot must be an integer >= 1",
            id="n_boot_zero",
        ),
        pytest.param(
            lambda: m.bootstrap_ci(m.auroc, E2, R2, alpha=1),
            r"alpha must be a number in \(0, 1\)",
            id="alpha_one",
        ),
        pytest.param(lambda: m.bootstrap_ci(m.auroc), r"at least one array", id="no_arrays"),
        pytest.param(
            lambda: m.bootstrap_ci(m.auroc, [0, 1, 0], R2),
            r"same length; received \[3, 2\]",
            id="bootstrap_lengths",
        ),
        pytest.param(
            lambda: m.bootstrap_ci(m.auroc, E2, R2, groups=[1]),
            r"groups must be 1-D with one entry per row \(2\)",
            id="groups_length",
        ),
        pytest.param(
            lambda: m.bootstrap_ci(m.auroc, E2, R2, groups=["a", None]),
            r"groups must not contain missing values.*\[1\]",
            id="groups_missing",
        ),
    ],
)
def test_errors_name_argument_and_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_errors_caught_is_the_budget_table_rule() -> None:
    rng = np.random.default_rng(3)
    for n in (7, 40, 500):
        e = (rng.random(n) < 0.3).astype(int)
        r = np.round(rng.random(n), 1)  # many ties at the threshold: all of them are flagged
        for rate in (0.05, 0.1, 0.5, 1.0):
            row = m.budget_table(e, r, flag_rates=[rate]).iloc[0]
            assert m.errors_caught(e, r, rate) == pytest.approx(row["errors_caught"],
                                                                      nan_ok=True)
    assert np.isnan(m.errors_caught(np.zeros(5, int), np.arange(5.0), 0.2))
