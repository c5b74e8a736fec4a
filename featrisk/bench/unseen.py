"""Evaluation on damage featrisk never generated (the independent outcome set).

On :mod:`featrisk.bench.independent`'s set the damage labels are albumentations' families,
which no part of featrisk learned from, so nothing here fits the degradation estimator on
them: every featrisk model reads the shipped estimator's outputs, exactly as
``featrisk.fit(paths, correct)`` does for a user. Scored, with folds grouped by source photo:

- ``featrisk``: ``RiskModel()`` (image only, the default) fitted on the training folds'
  outcomes; ``featrisk_direct`` the same without the estimator's outputs;
- ``featrisk_hybrid_lgbm`` (softmax scores as LightGBM inputs) and ``featrisk_hybrid_stack``
  (logistic stack of the image risk and max-softmax), against ``max_softmax``;
- ``oracle``: the training folds' error rate of each image's exact (damage, severity) cell,
  what knowing the damage would give;
- ``default_model``: the shipped default model with no fitting at all (the call
  ``featrisk.predict(paths)``), and its ``atypicality``. Besides AUROC and ECE, each
  (damage, severity) batch's error rate is set against the batch's mean risk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk.api import default_model_path
from featrisk.bench.evaluate import SOFTMAX_COLUMNS, _oracle, auroc_difference
from featrisk.model import RiskModel, fold_ids
from featrisk.persist import load
from featrisk.profiles import profile_of

#: Methods whose score is a probability (ECE is reported for these only).
PROBABILISTIC = {"featrisk", "featrisk_direct", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack",
                 "oracle", "default_model", "max_softmax"}


def cross_validated(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int, seed: int,
                    log: Callable[[str], None] = print) -> pd.DataFrame:
    """Out-of-fold scores of the fitted methods and the oracle, grouped by source photo."""
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    fold = fold_ids(len(outcomes), cv=folds, groups=outcomes["source_id"].to_numpy(), seed=seed)
    softmax = pd.DataFrame({f"softmax_{c}": outcomes[c].to_numpy(float) for c in SOFTMAX_COLUMNS})
    top = outcomes["max_prob"].to_numpy(float)
    profile = profile_of(features)
    names = ("featrisk", "featrisk_direct", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack", "oracle")
    scores = {m: np.full(len(outcomes), np.nan) for m in names}
    for k in range(folds):
        test, train = fold == k, fold != k
        groups = outcomes.loc[train, "source_id"].to_numpy()
        ftr, fte, ok = features[train], features[test], error[train] == 0
        model = RiskModel(profile=profile).fit(ftr, ok, groups=groups)
        scores["featrisk"][test] = model.predict_risk(fte)
        direct = RiskModel(profile=profile, degradation=None).fit(ftr, ok, groups=groups)
        scores["featrisk_direct"][test] = direct.predict_risk(fte)
        hybrid = RiskModel(profile=profile).fit(ftr, ok, groups=groups,
                                               extra=softmax[train].reset_index(drop=True))
        scores["featrisk_hybrid_lgbm"][test] = hybrid.predict_risk(
            fte, extra=softmax[test].reset_index(drop=True))
        stack = RiskModel(profile=profile, hybrid="stack").fit(
            ftr, ok, groups=groups, extra=pd.DataFrame({"softmax_max_prob": top[train]}))
        scores["featrisk_hybrid_stack"][test] = stack.predict_risk(
            fte, extra=pd.DataFrame({"softmax_max_prob": top[test]}))
        scores["oracle"][test] = _oracle(outcomes[train], outcomes[test], error[train])
        log(f"  fold {k + 1}/{folds}: featrisk test AUROC "
            f"{metrics.auroc(error[test], scores['featrisk'][test]):.3f}")
    out = pd.DataFrame(scores)
    out["max_softmax"] = 1 - top
    return out


def batch_calibration(error: np.ndarray, risk: np.ndarray, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Error rate against mean risk of each (damage, severity) batch, largest gap first."""
    frame = pd.DataFrame({"damage": outcomes["degradation"].to_numpy(str),
                          "severity": outcomes["severity"].to_numpy(int),
                          "error": error, "risk": risk})
    table = frame.groupby(["damage", "severity"]).agg(
        n=("error", "size"), error_rate=("error", "mean"), mean_risk=("risk", "mean")).reset_index()
    table["gap"] = table["mean_risk"] - table["error_rate"]
    return table.sort_values("gap", key=np.abs, ascending=False).reset_index(drop=True)


def evaluate_unseen(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 5,
                    seed: int = 0, n_boot: int = 1000,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every result of the independent outcome set (see the module docstring)."""
    ok = features["error"].isna().to_numpy()
    if not ok.all():
        log(f"  {int((~ok).sum())} unreadable images left out")
    features, outcomes = features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    groups = outcomes["source_id"].to_numpy()
    start = time.perf_counter()
    scores = cross_validated(features, outcomes, folds=folds, seed=seed, log=log)
    cv_seconds = time.perf_counter() - start
    default = load(default_model_path(profile_of(features)))
    scores["default_model"] = default.predict_risk(features)
    scores["default_atypicality"] = default.atypicality(features)
    table = {}
    for m in scores.columns:
        s = metrics.summary(error, np.clip(scores[m].to_numpy(), 0, 1), groups=groups,
                            n_boot=n_boot, seed=seed)
        if m not in PROBABILISTIC:
            s["ece"] = None
        table[m] = s
    batches = batch_calibration(error, scores["default_model"].to_numpy(), outcomes)
    weights = batches["n"] / batches["n"].sum()
    by_damage = []
    for damage, idx in outcomes.groupby("degradation").indices.items():
        e = error[idx]
        row: dict[str, Any] = {"damage": damage, "n": len(idx), "error_rate": float(e.mean())}
        for m in ("featrisk", "oracle", "default_model", "max_softmax", "featrisk_hybrid_stack"):
            row[m] = metrics.auroc(e, scores[m].to_numpy()[idx]) if 0 < e.sum() < len(e) else np.nan
        row["default_mean_risk"] = float(scores["default_model"].to_numpy()[idx].mean())
        by_damage.append(row)

    def diff(a: str, b: str) -> dict[str, float]:
        return auroc_difference(error, scores[a].to_numpy(), scores[b].to_numpy(), groups=groups,
                                n_boot=n_boot, seed=seed)

    return {
        "n_images": int(len(outcomes)), "n_sources": int(outcomes["source_id"].nunique()),
        "n_damages": int(outcomes["degradation"].nunique() - 1),
        "error_rate": float(error.mean()),
        "clean_error_rate": float(error[(outcomes["degradation"] == "none").to_numpy()].mean()),
        "folds": folds, "seed": seed, "cv_seconds": round(cv_seconds, 1),
        "methods": table,
        "by_damage": by_damage,
        "default_batches": batches.to_dict("records"),
        "default_batch_mae": float((weights * batches["gap"].abs()).sum()),
        "differences": {
            "featrisk_minus_oracle": diff("featrisk", "oracle"),
            "default_minus_featrisk": diff("default_model", "featrisk"),
            "hybrid_stack_minus_softmax": diff("featrisk_hybrid_stack", "max_softmax"),
            "hybrid_lgbm_minus_softmax": diff("featrisk_hybrid_lgbm", "max_softmax"),
        },
    }
