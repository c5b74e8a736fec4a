"""The fit pipeline of a RiskModel, from its design table to the attributes a fitted model keeps.

Readable rows only (a warning names how many were left out); the booster's inputs checked
against the calibration and hybrid settings; soft targets when denoising
(:mod:`featrisk.model.denoise`); cross-fitted out-of-fold scores and the final booster
(:mod:`featrisk.model.booster`); calibration on the out-of-fold scores
(:mod:`featrisk.model.calibration`); then what prediction, thresholds, explanations and
atypicality read later.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk._logistic import _sigmoid
from featrisk.folds import fold_ids
from featrisk.model import calibration as calib
from featrisk.model.atypical import fit_reference
from featrisk.model.booster import BoosterSettings
from featrisk.model.denoise import denoised_targets
from featrisk.model.explain import feature_quantiles, mean_abs_contributions
from featrisk.model.hybrid import booster_inputs
from featrisk.model.thresholds import kept_oof
from featrisk.schema import FEATURE_COLUMNS

__all__ = ["train"]


def readable_rows(table: pd.DataFrame, error: np.ndarray,
                  groups: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Which rows of the training table are readable, and the groups as an array; warns (at
    the caller of ``RiskModel.fit``) when images could not be read."""
    if len(error) != len(table):
        raise ValueError(f"correct has {len(error)} values but X has {len(table)} images")
    grp = None if groups is None else np.asarray(groups)
    if grp is not None and len(grp) != len(table):
        raise ValueError(f"groups has {len(grp)} values but X has {len(table)} images")
    ok = table["error"].isna().to_numpy()
    if not ok.all():
        warnings.warn(
            f"{(~ok).sum()} of {len(ok)} images could not be read and were left out of "
            f"training; first: {table.loc[~ok, 'error'].iloc[0]}", stacklevel=4,
        )
    return ok, grp


def input_names(base: tuple[str, ...], extra_names: list[str], derived: list[str], *,
                calibration: str, hybrid: str) -> list[str]:
    """The booster's inputs: image features, ``extra`` and estimator columns, checked
    against the calibration and hybrid settings."""
    calib.check_name(calibration)
    names = booster_inputs([*base, *extra_names, *derived], extra_names, hybrid=hybrid,
                           calibration=calibration)
    calib.check_inputs(calibration, names)
    return names


def train(table: pd.DataFrame, error: np.ndarray, groups: Any, *, base: tuple[str, ...],
          extra_names: list[str], derived: list[str], booster: BoosterSettings,
          calibration: str, hybrid: str, denoise: float) -> dict[str, Any]:
    """Fit a RiskModel's parts on its design table.

    Parameters
    ----------
    table : DataFrame
        The design table (:mod:`featrisk.model.design`), unreadable rows included.
    error : ndarray of {0, 1}
        1 where the classifier was wrong, per row of ``table``.
    groups : array-like, optional
        Group label per row; folds never split a group.
    base, extra_names, derived : sequences of str
        The image-feature, ``extra`` and degradation-estimator columns.
    booster : BoosterSettings
        Boosting parameters, folds and seed.
    calibration, hybrid, denoise
        The model's settings of the same names.

    Returns
    -------
    dict
        The fitted attributes by name (``booster_``, ``feature_names_``, ``calibration_``,
        ``oof_risk_``, ``training_summary_`` without ``fit_seconds``, ...).
    """
    ok, grp = readable_rows(table, error, groups)
    names = input_names(base, extra_names, derived, calibration=calibration, hybrid=hybrid)
    x, y, rows = table.loc[ok, names].to_numpy(np.float64), error[ok], table.loc[ok]
    grp = None if grp is None else grp[ok]
    n_err, cv = int(y.sum()), booster.cv
    if min(n_err, len(y) - n_err) < cv:
        raise ValueError(
            f"need at least cv={cv} correct and {cv} wrong images to fit; got "
            f"{len(y) - n_err} correct and {n_err} wrong"
        )
    target, fold_targets, used = denoised_targets(x, y, grp, names, set(base), weight=denoise,
                                                  booster=booster)
    params = booster.lgb_params(names)
    if used:
        params["objective"] = "cross_entropy"
    oof_raw, rounds = booster.cross_fit(x, y, grp, names, params, fold_targets=fold_targets)
    n_estimators = booster.final_rounds(rounds)
    final = booster.train(x, target, names, params, n_estimators)
    folds = (fold_ids(len(y), cv=cv, groups=grp, seed=booster.random_state)
             if hybrid == "stack" else None)
    (a, b), stack, stacked = calib.fit_calibration(calibration, hybrid, oof_raw, x, y, rows,
                                                   names, folds)
    oof_logit = a * oof_raw + b + calib.offset(x, rows, names, stack, stacked)
    oof_risk, oof_error = kept_oof(_sigmoid(oof_logit), y)
    return {
        "n_estimators_": n_estimators,
        "booster_": final,
        "feature_names_": names,
        "extra_columns_": [f for f in names if f not in FEATURE_COLUMNS],
        "calibration_": (a, b),
        "stack_": stack,
        "hybrid_": stacked,
        "oof_risk_": oof_risk,
        "oof_error_": oof_error,
        "feature_quantiles_": feature_quantiles(x, names),
        "atypicality_": fit_reference(x, y, names, len(base)),
        "mean_abs_contrib_": mean_abs_contributions(final, x, names),
        "training_summary_": {
            "n_images": int(len(y)),
            "n_unreadable": int((~ok).sum()),
            "error_rate": float(y.mean()),
            "cv": cv,
            "grouped": grp is not None,
            "n_estimators": n_estimators,
            "oof_auroc": metrics.auroc(y, oof_risk),
            "oof_ece": metrics.ece(y, oof_risk),
            "calibration": "platt" if stack is None else "stack",
            "hybrid": None if stacked is None else "stack",
            "denoise": used,
        },
    }
