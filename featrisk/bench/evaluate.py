"""Grouped cross-validated evaluation of featrisk against the baselines a user would use.

For one outcome set (a table of image paths with a real classifier's outcomes, built by
:mod:`featrisk.bench.imagenet` or :mod:`featrisk.bench.cifar`), every method below scores
each image out of fold, with folds grouped by source image (a photo and all its degraded
variants are always on the same side):

- ``featrisk`` (image only, the headline, the default of :func:`featrisk.fit`): the
  risk model on all features plus the degradation estimator's outputs. The estimator is
  fitted on the training folds' images and their known degradations only (never on
  outcomes, never on a test-fold source), out of fold for the training rows themselves.
- ``featrisk_denoised``: the same as ``featrisk`` learning from targets blended half and half
  with a teacher's risk (``denoise=0.5``): what the teacher-blended targets buy.
- ``featrisk_direct``: the risk model on the features alone (``degradation=None``).
- ``featrisk_estimator_only``: the risk model on the degradation estimator's outputs alone
  (``features=[]``): how much of the image-only signal the estimated degradation carries.
- ``featrisk_true_degradation``: not a method a user can run but a ceiling for the
  estimator: the same risk model as ``featrisk``, with each image's true degradation (one-hot)
  and severity in place of the estimator's outputs, in training and in test. What it gains
  over ``featrisk`` is about what a perfect degradation estimator would buy.
- ``featrisk_hybrid_lgbm``: the same with the softmax scores as extra inputs (monotone).
- ``featrisk_hybrid_stack``: ``RiskModel(hybrid="stack")``, a logistic stack of
  logit(max-softmax) and the image-only booster's calibrated log-odds, fitted on the training
  folds' out-of-fold scores (never on its own test fold).
- ``max_softmax``, ``margin``, ``entropy``: the classifier's own uncertainty (1 - p_max,
  1 - margin, entropy / log K).
- ``properties``: LightGBM on brightness, RMS contrast, aspect ratio, area and mean R/G/B.
- ``cleanvision_*``: CleanVision-style rule scores (dark, light, blurry, low information)
  and their maximum, as rank percentiles.
- ``oracle``: the degradation oracle, each image's score the training-fold error rate of its
  exact (degradation, severity) cell: what knowing the degradation alone would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from featrisk import degrade, metrics
from featrisk.bench.baselines import (
    PROPERTY_COLUMNS,
    SOFTMAX_COLUMNS,
    cleanvision_scores,
    oracle_risk,
    true_degradation,
    with_atypicality,
)
from featrisk.bench.heldout import heldout_families as heldout_families  # defined here before
from featrisk.degradation import DegradationEstimator, cross_fit_transform
from featrisk.model import RiskModel, fold_ids
from featrisk.profiles import profile_of

#: The oracle's name when it was defined here.
_oracle = oracle_risk

#: Methods whose score is a calibrated probability (ECE is reported only for these).
PROBABILISTIC = {"featrisk", "featrisk_denoised", "featrisk_direct", "featrisk_estimator_only",
                 "featrisk_true_degradation", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack",
                 "properties", "oracle", "max_softmax"}


def recipe_scores(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 5,
                  seed: int = 0, model_params: dict[str, Any] | None = None) -> np.ndarray:
    """Out-of-fold risk of the shipped recipe alone (estimator cross-fitted, then RiskModel).

    The same grouped folds as :func:`cross_validated_scores` for the same rows and seed.
    """
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    sources = outcomes["source_id"].to_numpy()
    fold = fold_ids(len(outcomes), cv=folds, groups=sources, seed=seed)
    deg, sev = outcomes["degradation"].to_numpy(str), outcomes["severity"].to_numpy(float)
    params = {**(model_params or {}), "degradation": None, "profile": profile_of(features)}
    risk = np.full(len(outcomes), np.nan)
    for k in range(folds):
        test, train = fold == k, fold != k
        ftr, fte = features[train], features[test]
        deg_train = cross_fit_transform(ftr, deg[train], sev[train], groups=sources[train],
                                        seed=seed).reset_index(drop=True)
        deg_test = DegradationEstimator().fit(ftr, deg[train], sev[train]).transform(fte)
        model = RiskModel(**params).fit(ftr, error[train] == 0, groups=sources[train],
                                        extra=deg_train)
        risk[test] = model.predict_risk(fte, extra=deg_test.reset_index(drop=True))
    return risk


def cross_validated_scores(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 5,
                           seed: int = 0, model_params: dict[str, Any] | None = None,
                           log: Callable[[str], None] = print) -> tuple[pd.DataFrame, dict]:
    """Out-of-fold scores of every method, grouped by ``source_id``.

    Returns
    -------
    (scores, timing) : DataFrame with one column per method (row-aligned with ``outcomes``),
        and fit seconds per method.
    """
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    fold = fold_ids(len(outcomes), cv=folds, groups=outcomes["source_id"].to_numpy(), seed=seed)
    softmax = pd.DataFrame({f"softmax_{c}": outcomes[c].to_numpy(float) for c in SOFTMAX_COLUMNS})
    params = {**(model_params or {}), "degradation": None, "profile": profile_of(features)}
    scores = {m: np.full(len(outcomes), np.nan) for m in (
        "featrisk", "featrisk_denoised", "featrisk_direct", "featrisk_estimator_only",
        "featrisk_true_degradation",
        "featrisk_hybrid_lgbm", "featrisk_hybrid_stack", "properties", "oracle", "atypicality",
        "featrisk_plus_atypicality")}
    timing: dict[str, float] = dict.fromkeys(scores, 0.0)
    deg, sev = outcomes["degradation"].to_numpy(str), outcomes["severity"].to_numpy(float)
    for k in range(folds):
        test, train = fold == k, fold != k
        groups = outcomes.loc[train, "source_id"].to_numpy()
        ftr, fte = features[train], features[test]
        t = time.perf_counter()
        deg_train = cross_fit_transform(ftr, deg[train], sev[train], groups=groups, seed=seed)
        deg_test = DegradationEstimator().fit(ftr, deg[train], sev[train]).transform(fte)
        deg_train, deg_test = deg_train.reset_index(drop=True), deg_test.reset_index(drop=True)
        image = RiskModel(**params).fit(ftr, error[train] == 0, groups=groups, extra=deg_train)
        scores["featrisk"][test] = image.predict_risk(fte, extra=deg_test)
        timing["featrisk"] += time.perf_counter() - t
        scores["atypicality"][test], scores["featrisk_plus_atypicality"][test] = (
            with_atypicality(image, scores["featrisk"][test], fte))
        t = time.perf_counter()
        denoised = RiskModel(**{**params, "denoise": 0.5}).fit(ftr, error[train] == 0,
                                                               groups=groups, extra=deg_train)
        scores["featrisk_denoised"][test] = denoised.predict_risk(fte, extra=deg_test)
        timing["featrisk_denoised"] += time.perf_counter() - t
        t = time.perf_counter()
        direct = RiskModel(**params).fit(ftr, error[train] == 0, groups=groups)
        scores["featrisk_direct"][test] = direct.predict_risk(fte)
        timing["featrisk_direct"] += time.perf_counter() - t
        t = time.perf_counter()
        est_only = RiskModel(**params, features=[]).fit(ftr, error[train] == 0, groups=groups,
                                                       extra=deg_train)
        scores["featrisk_estimator_only"][test] = est_only.predict_risk(fte, extra=deg_test)
        timing["featrisk_estimator_only"] += time.perf_counter() - t
        t = time.perf_counter()
        told = RiskModel(**params).fit(
            ftr, error[train] == 0, groups=groups,
            extra=true_degradation(list(deg_test.columns), deg[train], sev[train]))
        scores["featrisk_true_degradation"][test] = told.predict_risk(
            fte, extra=true_degradation(list(deg_test.columns), deg[test], sev[test]))
        timing["featrisk_true_degradation"] += time.perf_counter() - t
        t = time.perf_counter()
        sm_train = pd.concat([deg_train, softmax[train].reset_index(drop=True)], axis=1)
        sm_test = pd.concat([deg_test, softmax[test].reset_index(drop=True)], axis=1)
        hybrid = RiskModel(**params).fit(ftr, error[train] == 0, groups=groups, extra=sm_train)
        scores["featrisk_hybrid_lgbm"][test] = hybrid.predict_risk(fte, extra=sm_test)
        timing["featrisk_hybrid_lgbm"] += time.perf_counter() - t
        t = time.perf_counter()
        top = outcomes["max_prob"].to_numpy(float)
        stack = RiskModel(**params, hybrid="stack").fit(
            ftr, error[train] == 0, groups=groups, extra=deg_train.assign(softmax_max_prob=top[train]))
        scores["featrisk_hybrid_stack"][test] = stack.predict_risk(
            fte, extra=deg_test.assign(softmax_max_prob=top[test]))
        timing["featrisk_hybrid_stack"] += time.perf_counter() - t
        t = time.perf_counter()
        props = RiskModel(**params, features=PROPERTY_COLUMNS).fit(ftr, error[train] == 0,
                                                                  groups=groups)
        scores["properties"][test] = props.predict_risk(fte)
        timing["properties"] += time.perf_counter() - t
        scores["oracle"][test] = oracle_risk(outcomes[train], outcomes[test], error[train])
        log(f"  fold {k + 1}/{folds}: image-only OOF-fit AUROC "
            f"{image.training_summary_['oof_auroc']:.3f}, test AUROC "
            f"{metrics.auroc(error[test], scores['featrisk'][test]):.3f}")
    out = pd.DataFrame(scores)
    k_classes = 1000 if outcomes["true_class"].max() >= 10 else 10
    out["max_softmax"] = 1 - outcomes["max_prob"].to_numpy(float)
    out["margin"] = 1 - outcomes["margin"].to_numpy(float)
    out["entropy"] = outcomes["entropy"].to_numpy(float) / np.log(k_classes)
    for name, values in cleanvision_scores(features).items():
        out[name] = values
    return out, timing


def summarise(error: np.ndarray, scores: pd.DataFrame, groups: np.ndarray, *,
              n_boot: int = 1000, seed: int = 0,
              probabilistic: frozenset[str] | set[str] = PROBABILISTIC) -> dict[str, dict[str, Any]]:
    """metrics.summary per method (ECE kept only for the ``probabilistic`` methods)."""
    out = {}
    for method in scores.columns:
        s = metrics.summary(error, np.clip(scores[method].to_numpy(), 0, 1), groups=groups,
                            n_boot=n_boot, seed=seed)
        if method not in probabilistic:
            s["ece"] = None
        out[method] = s
    return out


def breakdown(error: np.ndarray, scores: pd.DataFrame, outcomes: pd.DataFrame, by: str,
              methods: list[str]) -> pd.DataFrame:
    """Point AUROC per method within each value of ``by`` (NaN where one class is absent)."""
    rows = []
    for value, idx in outcomes.groupby(by).indices.items():
        e = error[idx]
        row: dict[str, Any] = {by: value, "n": len(idx), "error_rate": float(e.mean()),
                               "mean_risk": float(scores["featrisk"].to_numpy()[idx].mean())}
        for m in methods:
            row[m] = metrics.auroc(e, scores[m].to_numpy()[idx]) if 0 < e.sum() < len(e) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 5, seed: int = 0,
             n_boot: int = 1000, model_params: dict[str, Any] | None = None,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Full evaluation of one outcome set: headline table, breakdowns, importance, gate."""
    ok = features["error"].isna().to_numpy()
    if not ok.all():
        log(f"  {int((~ok).sum())} unreadable images left out")
    features = features[ok].reset_index(drop=True)
    outcomes = outcomes[ok].reset_index(drop=True)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    start = time.perf_counter()
    scores, timing = cross_validated_scores(features, outcomes, folds=folds, seed=seed,
                                            model_params=model_params, log=log)
    cv_seconds = time.perf_counter() - start
    groups = outcomes["source_id"].to_numpy()
    table = summarise(error, scores, groups, n_boot=n_boot, seed=seed)
    key = ["featrisk", "featrisk_direct", "featrisk_hybrid_stack", "featrisk_hybrid_lgbm", "max_softmax",
           "properties", "cleanvision_any", "oracle", "atypicality", "featrisk_plus_atypicality"]
    outcomes = outcomes.assign(
        family=np.where(outcomes["degradation"] == "none", "none (clean)", outcomes["degradation"]))
    clean = (outcomes["degradation"] == "none").to_numpy()
    cells = (outcomes["degradation"].astype(str) + "|"
             + outcomes["severity"].astype(str)).to_numpy()
    deg_all = cross_fit_transform(features, outcomes["degradation"].to_numpy(str),
                                  outcomes["severity"].to_numpy(float), groups=groups, seed=seed)
    full = RiskModel(**{**(model_params or {}), "degradation": None,
                        "profile": profile_of(features)}).fit(
        features, error == 0, groups=groups, extra=deg_all.reset_index(drop=True))
    importance = full.importance().head(25)
    core = outcomes["degradation"].isin(("none", *degrade.CORE_FAMILIES)).to_numpy()
    core_subset = None
    if not core.all():
        core_subset = {"n": int(core.sum()),
                       **{m: metrics.auroc(error[core], scores[m].to_numpy()[core])
                          for m in ("featrisk", "oracle", "max_softmax")}}
        # like for like with the set before the newer families: the recipe fitted on these rows only
        fitted = recipe_scores(features[core].reset_index(drop=True),
                               outcomes[core].reset_index(drop=True), folds=folds, seed=seed,
                               model_params=model_params)
        _, low, high = metrics.bootstrap_ci(metrics.auroc, error[core], fitted, n_boot=n_boot,
                                            seed=seed, groups=groups[core])
        core_subset["featrisk_fitted_on_subset"] = metrics.auroc(error[core], fitted)
        core_subset["featrisk_fitted_on_subset_ci"] = [low, high]
    return {
        "core_subset": core_subset,
        "n_images": int(len(outcomes)), "n_sources": int(outcomes["source_id"].nunique()),
        "error_rate": float(error.mean()), "clean_error_rate": float(error[clean].mean()),
        "folds": folds, "seed": seed, "cv_seconds": round(cv_seconds, 1),
        "fit_seconds": {k: round(v, 1) for k, v in timing.items()},
        "methods": table,
        "by_family": breakdown(error, scores, outcomes, "family", key).to_dict("records"),
        "by_severity": breakdown(error, scores, outcomes, "severity", key).to_dict("records"),
        "importance": importance.reset_index().to_dict("records"),
        "gate": gate_message(table["featrisk"]["auroc"]),
        "cells": {m: cell_diagnostics(error, scores[m].to_numpy(), cells)
                  for m in ("featrisk", "featrisk_true_degradation", "oracle", "max_softmax")},
        "denoise_gain": auroc_difference(
            error, scores["featrisk_denoised"].to_numpy(), scores["featrisk"].to_numpy(),
            groups=groups, n_boot=n_boot, seed=seed),
        "featrisk_minus_oracle": auroc_difference(
            error, scores["featrisk"].to_numpy(), scores["oracle"].to_numpy(),
            groups=groups, n_boot=n_boot, seed=seed),
        "hybrid_minus_softmax": auroc_difference(
            error, scores["featrisk_hybrid_stack"].to_numpy(), scores["max_softmax"].to_numpy(),
            groups=groups, n_boot=n_boot, seed=seed),
    }


def cell_diagnostics(error: np.ndarray, score: np.ndarray, cells: np.ndarray) -> dict[str, float]:
    """How a score ranks failures between and within (degradation, severity) cells.

    Parameters
    ----------
    error : ndarray of {0, 1}
        1 where the classifier was wrong.
    score : ndarray of float
        Any risk score (higher = more likely wrong).
    cells : ndarray of str
        Each image's cell, e.g. ``"jpeg|3"``.

    Returns
    -------
    dict
        ``between``: AUROC of the score averaged over each cell (how well it orders the
        cells); ``within``: AUROC over the pairs of a failure and a success of the same cell
        (pair-weighted mean of the per-cell AUROCs; 0.5 = the score varies within a cell
        independently of which images fail); ``cell_rates``: AUROC of each cell's own
        in-sample error rate, the most any score that is constant within cells can reach.
    """
    frame = pd.DataFrame({"e": error, "s": score, "c": cells})
    pairs, weighted = 0.0, 0.0
    for _, part in frame.groupby("c"):
        n_pos = float(part["e"].sum())
        n_pairs = n_pos * (len(part) - n_pos)
        if n_pairs:
            weighted += metrics.auroc(part["e"], part["s"]) * n_pairs
            pairs += n_pairs
    by_cell = frame.groupby("c")
    return {"between": metrics.auroc(error, by_cell["s"].transform("mean").to_numpy()),
            "within": weighted / pairs if pairs else float("nan"),
            "cell_rates": metrics.auroc(error, by_cell["e"].transform("mean").to_numpy())}


def auroc_difference(error: np.ndarray, a: np.ndarray, b: np.ndarray, *, groups: Any,
                     n_boot: int, seed: int) -> dict[str, float]:
    """AUROC(a) - AUROC(b) with a paired grouped bootstrap interval (same resamples)."""
    value, low, high = metrics.bootstrap_ci(
        lambda e, x, y: metrics.auroc(e, x) - metrics.auroc(e, y), error, a, b,
        groups=groups, n_boot=n_boot, seed=seed)
    return {"value": value, "low": low, "high": high}


def gate_message(auroc: dict[str, float]) -> str | None:
    """A warning when the AUROC interval includes 0.5 (no better than chance), else None."""
    if auroc["low"] <= 0.5:
        return (f"WARNING: AUROC {auroc['value']:.3f} [{auroc['low']:.3f}, {auroc['high']:.3f}] "
                "includes 0.5: this risk model is not shown to be better than chance here")
    return None


