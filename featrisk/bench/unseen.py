"""Evaluation on damage featrisk never generated (the independent outcome set).

On :mod:`featrisk.bench.independent`'s set the damage labels are albumentations' families,
which no part of featrisk learns from. The set shares its 500 source photos with the
``featrisk.degrade`` ImageNet set (the *reference* set), on which the shipped estimator and
default model were trained, outcomes included: scoring these photos with the shipped files
would let them recall a photo's difficulty. So the shipped recipe is re-run per fold: with
folds grouped by source photo (the same photo falls in the same fold in both sets), fold k
is scored by a degradation estimator and a default model fitted on the reference set's
images of the other folds' photos only (and the composed-damage images of those photos,
:mod:`featrisk.bench.composed_set`), exactly as ``featrisk bench train-degradation`` and
``train-default`` fit the shipped files. Scored:

- ``featrisk``: ``RiskModel`` (image only) fitted on this set's training folds' outcomes, with
  the fold's estimator outputs, as ``featrisk.fit(paths, correct)`` does for a user;
  ``featrisk_direct`` the same without the estimator's outputs;
- ``featrisk_hybrid_lgbm`` (softmax scores as LightGBM inputs) and ``featrisk_hybrid_stack``
  (logistic stack of the image risk and max-softmax), against ``max_softmax``;
- ``oracle``: the training folds' error rate of each image's exact (damage, severity) cell,
  what knowing the damage would give;
- ``default_model``: the shipped default recipe, fitted on the reference set only and never
  on this set's outcomes (what ``featrisk.predict(paths)`` does with the shipped model), and
  its ``default_atypicality``. Besides AUROC and ECE, each (damage, severity) batch's error
  rate is set against the batch's mean risk. ``default_model_arrays``: the same recipe given
  the images as decoded arrays, whose file facts are unknown (NaN) and filled as a model
  fills them (:func:`featrisk.model.fill_file_facts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from featrisk import degrade, metrics
from featrisk.bench.baselines import SOFTMAX_COLUMNS, oracle_risk
from featrisk.bench.evaluate import auroc_difference, summarise
from featrisk.degradation import LabelledRows, fit_estimator
from featrisk.model import RiskModel, file_fill_values, fill_file_facts, fold_ids
from featrisk.profiles import profile_of
from featrisk.schema import FILE_COLUMNS

#: Methods whose score is a probability (ECE is reported for these only).
PROBABILISTIC = {"featrisk", "featrisk_direct", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack",
                 "oracle", "default_model", "default_model_arrays", "default_core_families",
                 "max_softmax"}


def _readable(features: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    ok = features["error"].isna().to_numpy()
    return features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)


def as_arrays(features: pd.DataFrame) -> pd.DataFrame:
    """The table the same images give as decoded arrays: no file, so no file facts."""
    return features.assign(**dict.fromkeys(FILE_COLUMNS, np.nan))


def _estimator_outputs(features: pd.DataFrame, fold: np.ndarray, ref_x: pd.DataFrame,
                       ref_o: pd.DataFrame, ref_fold: np.ndarray, *, folds: int,
                       keep: np.ndarray | None = None, composed: LabelledRows | None = None,
                       arrays: bool = False) -> tuple[pd.DataFrame, ...]:
    """Estimator k (fitted on the reference images of the photos outside fold k, rows
    ``keep`` only, and the composed-damage rows of those photos) applied to fold k of both
    sets; with ``arrays``, also to fold k given as arrays, file facts filled from those
    reference rows as a model fills them."""
    keep = np.ones(len(ref_o), bool) if keep is None else keep
    est_out = ref_out = arr_out = None
    for k in range(folds):
        rows = (ref_fold != k) & keep
        also = (None if composed is None
                else composed.without(ref_o.loc[ref_fold == k, "source_id"].unique()))
        est = fit_estimator(ref_x[rows], ref_o.loc[rows, "degradation"],
                            ref_o.loc[rows, "severity"], also=also)
        if est_out is None:
            est_out = pd.DataFrame(0.0, index=features.index, columns=est.columns)
            ref_out = pd.DataFrame(0.0, index=ref_x.index, columns=est.columns)
            arr_out = est_out.copy()
        est_out.loc[fold == k] = est.transform(features[fold == k]).to_numpy()
        ref_out.loc[ref_fold == k] = est.transform(ref_x[ref_fold == k]).to_numpy()
        if arrays:
            filled = fill_file_facts(as_arrays(features[fold == k]), file_fill_values(ref_x[rows]))
            arr_out.loc[fold == k] = est.transform(filled).to_numpy()
    return (est_out, ref_out, arr_out) if arrays else (est_out, ref_out)


def _default_recipe(features: pd.DataFrame, fold: np.ndarray, reference: tuple,
                    ref_fold: np.ndarray, est: tuple, *, folds: int, keep: np.ndarray,
                    profile: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Risk and atypicality of the default recipe fitted, per fold, on reference rows ``keep``
    of the photos outside the fold; and its risk of the same images given as arrays when
    ``est`` holds the estimator's outputs for them (else NaN)."""
    ref_x, ref_o = reference
    est_out, ref_out, arr_out = (*est, None)[:3]
    ref_ok = ref_o["correct"].to_numpy(bool)
    risk, atyp, arr = (np.full(len(features), np.nan) for _ in range(3))
    for k in range(folds):
        seen, test = (ref_fold != k) & keep, fold == k
        model = RiskModel(profile=profile, degradation=None).fit(
            ref_x[seen], ref_ok[seen], groups=ref_o.loc[seen, "source_id"].to_numpy(),
            extra=ref_out[seen].reset_index(drop=True))
        risk[test] = model.predict_risk(features[test], extra=est_out[test].reset_index(drop=True))
        atyp[test] = model.atypicality(features[test])
        if arr_out is not None:
            arr[test] = model.predict_risk(as_arrays(features[test]),
                                           extra=arr_out[test].reset_index(drop=True))
    return risk, atyp, arr


def cross_validated(features: pd.DataFrame, outcomes: pd.DataFrame, reference: tuple, *,
                    folds: int, seed: int, composed: LabelledRows | None = None,
                    log: Callable[[str], None] = print) -> pd.DataFrame:
    """Out-of-fold scores of every method, grouped by source photo (see the module docstring).

    ``reference`` is the (features, outcomes) of the ``featrisk.degrade`` set of the same
    photos, whose known degradations train the estimator and whose outcomes train the
    default recipe; ``composed`` (:mod:`featrisk.bench.composed_set`) the composed-damage
    rows of those photos that the shipped estimator also learns from.
    """
    ref_x, ref_o = reference
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    fold = fold_ids(len(outcomes), cv=folds, groups=outcomes["source_id"].to_numpy(), seed=seed)
    ref_fold = fold_ids(len(ref_o), cv=folds, groups=ref_o["source_id"].to_numpy(), seed=seed)
    if set(ref_o["source_id"]) != set(outcomes["source_id"]):
        raise ValueError("the reference set's photos must be this set's (same source ids), so "
                         "that a photo falls in the same fold in both; build both sets from "
                         "the same photo folder")
    profile = profile_of(features)
    est_all = _estimator_outputs(features, fold, ref_x, ref_o, ref_fold, folds=folds,
                                 composed=composed, arrays=True)
    est_out = est_all[0]
    softmax = pd.DataFrame({f"softmax_{c}": outcomes[c].to_numpy(float) for c in SOFTMAX_COLUMNS})
    top = outcomes["max_prob"].to_numpy(float)
    names = ("featrisk", "featrisk_direct", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack",
             "oracle")
    scores = {m: np.full(len(outcomes), np.nan) for m in names}
    params = {"profile": profile, "degradation": None}
    for k in range(folds):
        test, train = fold == k, fold != k
        groups = outcomes.loc[train, "source_id"].to_numpy()
        ftr, fte, ok = features[train], features[test], error[train] == 0
        etr, ete = (est_out[m].reset_index(drop=True) for m in (train, test))
        model = RiskModel(**params).fit(ftr, ok, groups=groups, extra=etr)
        scores["featrisk"][test] = model.predict_risk(fte, extra=ete)
        direct = RiskModel(**params).fit(ftr, ok, groups=groups)
        scores["featrisk_direct"][test] = direct.predict_risk(fte)
        hybrid = RiskModel(**params).fit(
            ftr, ok, groups=groups, extra=pd.concat([etr, softmax[train].reset_index(drop=True)], axis=1))
        scores["featrisk_hybrid_lgbm"][test] = hybrid.predict_risk(
            fte, extra=pd.concat([ete, softmax[test].reset_index(drop=True)], axis=1))
        stack = RiskModel(**params, hybrid="stack").fit(
            ftr, ok, groups=groups, extra=etr.assign(softmax_max_prob=top[train]))
        scores["featrisk_hybrid_stack"][test] = stack.predict_risk(
            fte, extra=ete.assign(softmax_max_prob=top[test]))
        scores["oracle"][test] = oracle_risk(outcomes[train], outcomes[test], error[train])
        log(f"  fold {k + 1}/{folds}: featrisk test AUROC "
            f"{metrics.auroc(error[test], scores['featrisk'][test]):.3f}")
    everything = np.ones(len(ref_o), bool)
    (scores["default_model"], scores["default_atypicality"],
     scores["default_model_arrays"]) = _default_recipe(
        features, fold, reference, ref_fold, est_all, folds=folds, keep=everything,
        profile=profile)
    # the same recipe taught only the first fourteen featrisk.degrade families (as before
    # the thirteen newer ones): what the wider vocabulary buys on damage nobody listed
    core = ref_o["degradation"].isin(("none", *degrade.CORE_FAMILIES)).to_numpy()
    if not core.all():
        core_est = _estimator_outputs(features, fold, ref_x, ref_o, ref_fold, folds=folds, keep=core)
        scores["default_core_families"], _, _ = _default_recipe(
            features, fold, reference, ref_fold, core_est, folds=folds, keep=core, profile=profile)
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


def batch_mae(batches: pd.DataFrame) -> float:
    """Mean absolute gap of :func:`batch_calibration`'s batches, weighted by their size."""
    return float((batches["n"] * batches["gap"].abs()).sum() / batches["n"].sum())


def by_kinship(error: np.ndarray, scores: pd.DataFrame, outcomes: pd.DataFrame,
               kin: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """The default recipe on damage ``featrisk.degrade`` also makes (with its own code) and
    on damage it never makes, each with the clean images: AUROC, ECE and batch MAE."""
    damage = outcomes["degradation"].to_numpy(str)
    listed = np.array([kin.get(d) is not None for d in damage])
    clean = damage == "none"
    out = {}
    for key, rows in (("with_kin", listed | clean), ("without_kin", ~listed)):
        e, risk = error[rows], scores["default_model"].to_numpy()[rows]
        batches = batch_calibration(e, risk, outcomes[rows])
        out[key] = {
            "families": sorted({d for d in damage[rows] if d != "none"}),
            "n_images": int(rows.sum()), "error_rate": float(e.mean()),
            "auroc": metrics.auroc(e, risk), "ece": metrics.ece(e, risk),
            "featrisk_auroc": metrics.auroc(e, scores["featrisk"].to_numpy()[rows]),
            "batch_mae": batch_mae(batches),
        }
    return out


def evaluate_unseen(features: pd.DataFrame, outcomes: pd.DataFrame, reference: tuple, *,
                    folds: int = 5, seed: int = 0, n_boot: int = 1000,
                    kin: dict[str, str | None] | None = None,
                    composed: LabelledRows | None = None,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every result of the independent outcome set (see the module docstring).

    ``reference`` is the (features, outcomes) of the ``featrisk.degrade`` outcome set of the
    same photos (``featrisk bench build imagenet``); ``kin`` maps each damage to its
    ``featrisk.degrade`` counterpart or None (:data:`featrisk.bench.independent.KIN`), for the
    split of :func:`by_kinship`.
    """
    n_bad = int(features["error"].notna().sum())
    if n_bad:
        log(f"  {n_bad} unreadable images left out")
    features, outcomes = _readable(features, outcomes)
    reference = _readable(*reference)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    groups = outcomes["source_id"].to_numpy()
    start = time.perf_counter()
    scores = cross_validated(features, outcomes, reference, folds=folds, seed=seed,
                             composed=composed, log=log)
    cv_seconds = time.perf_counter() - start
    table = summarise(error, scores, groups, n_boot=n_boot, seed=seed, probabilistic=PROBABILISTIC)
    batches = batch_calibration(error, scores["default_model"].to_numpy(), outcomes)
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
        "default_batch_mae": batch_mae(batches),
        **({"kinship": by_kinship(error, scores, outcomes, kin)} if kin else {}),
        "differences": {
            "featrisk_minus_oracle": diff("featrisk", "oracle"),
            "default_minus_featrisk": diff("default_model", "featrisk"),
            "arrays_minus_files": diff("default_model_arrays", "default_model"),
            **({"default_minus_core_families": diff("default_model", "default_core_families")}
               if "default_core_families" in scores else {}),
            "hybrid_stack_minus_softmax": diff("featrisk_hybrid_stack", "max_softmax"),
            "hybrid_lgbm_minus_softmax": diff("featrisk_hybrid_lgbm", "max_softmax"),
        },
    }
