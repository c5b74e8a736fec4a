"""Calibration of a RiskModel: out-of-fold booster scores to the probability of an error.

``"platt"``: a logistic fit of the outcome on the out-of-fold raw log-odds, sigmoid(a * raw +
b) (Platt scaling, two parameters); with ``hybrid="stack"`` the classifier's signals join it
(:mod:`featrisk.model.hybrid`). ``"stack"``: a ridge logistic stack of the raw score and,
per degradation family, the estimator's p, p x severity and p x severity^2
(:func:`stack_terms`), a smooth map from "what is wrong and how badly" to error rate. No
class reweighting is used: reweighting distorts probabilities, and the calibrated
probability is what thresholds and reports read.

The logistic fits are :mod:`featrisk._logistic`'s (damped Newton, the objective of
scikit-learn's ``LogisticRegression``), which every saved model was calibrated with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featrisk._logistic import logistic_fit, platt_fit
from featrisk.model.hybrid import fit_hybrid, hybrid_offset

__all__ = ["STACK_SEVERITY", "check_inputs", "check_name", "fit_calibration", "offset", "stack_inputs",
           "stack_terms"]

#: Severity range (``featrisk.degrade`` levels) the calibration stack clips estimates to.
STACK_SEVERITY = (0.0, 5.0)


def stack_terms(p: np.ndarray, severity: np.ndarray) -> np.ndarray:
    """Terms of the degradation-aware calibration: p_f, p_f * s and p_f * s^2 per family.

    Parameters
    ----------
    p : ndarray, shape (n, families)
        The degradation estimator's family probabilities (0-1).
    severity : ndarray, shape (n,)
        Its severity estimate, clipped to 0-5.

    Returns
    -------
    ndarray, shape (n, 3 * families)
    """
    s = np.clip(severity, *STACK_SEVERITY)[:, None]
    return np.column_stack([p, p * s, p * s * s])


def stack_inputs(names: list[str]) -> tuple[list[int], int] | None:
    """Indices of the estimator's family probabilities and severity among ``names``, or None."""
    p_idx = [i for i, f in enumerate(names) if f.startswith("degradation_p_")]
    if not p_idx or "degradation_severity" not in names:
        return None
    return p_idx, names.index("degradation_severity")


def check_name(calibration: str) -> None:
    """Raise unless ``calibration`` names a method: ``"platt"`` or ``"stack"``."""
    if calibration not in ("platt", "stack"):
        raise ValueError(f"calibration must be 'platt' or 'stack', got {calibration!r}")


def check_inputs(calibration: str, names: list[str]) -> None:
    """Raise when ``calibration="stack"`` lacks the estimator's outputs among ``names``."""
    if calibration == "stack" and stack_inputs(names) is None:
        raise ValueError("calibration='stack' needs the degradation estimator's outputs "
                         "(degradation_p_* and degradation_severity) among the inputs; "
                         "fit with degradation='default' or pass them in extra")


def fit_calibration(calibration: str, hybrid: str, oof_raw: np.ndarray, x: np.ndarray,
                    y: np.ndarray, table: pd.DataFrame, names: list[str],
                    folds: np.ndarray | None
                    ) -> tuple[tuple[float, float], dict[str, Any] | None, dict[str, Any] | None]:
    """Platt scaling, then the hybrid stack; or the degradation stack.

    Parameters
    ----------
    calibration, hybrid : str
        The model's settings (checked by :func:`check_name`, :func:`check_inputs` and
        :func:`featrisk.model.hybrid.booster_inputs`).
    oof_raw : ndarray, shape (n,)
        Out-of-fold raw scores of the booster.
    x : ndarray, shape (n, len(names))
        The booster's inputs on the same rows.
    y : ndarray of {0, 1}, shape (n,)
        1 where the classifier was wrong.
    table : DataFrame
        The same rows with every column (the hybrid stack reads the signals there).
    names : list of str
        Column names of ``x``.
    folds : ndarray, shape (n,), optional
        The cross-fitting folds; needed by the hybrid stack only.

    Returns
    -------
    (calibration_, stack_, hybrid_)
        ``(a, b)``, the degradation stack (None unless ``calibration="stack"``) and the
        hybrid stack (None unless ``hybrid="stack"``), as a RiskModel keeps them.
    """
    if calibration == "platt":
        platt = platt_fit(oof_raw, y)
        if hybrid != "stack":
            return platt, None, None
        stacked, fitted = fit_hybrid(platt, oof_raw, y, table, folds)
        return stacked, None, fitted
    p_idx, s_idx = stack_inputs(names)
    terms = stack_terms(x[:, p_idx], x[:, s_idx])
    coef, intercept = logistic_fit(np.column_stack([oof_raw, terms]), y)
    return (float(coef[0]), intercept), {"p_columns": [names[i] for i in p_idx],
                                         "severity_column": names[s_idx],
                                         "coef": [float(c) for c in coef[1:]]}, None


def degradation_offset(stack: dict[str, Any] | None, x: np.ndarray,
                       names: list[str]) -> np.ndarray:
    """Per-image log-odds the calibration stack adds for the estimated degradation."""
    if stack is None:
        return np.zeros(len(x))
    p = x[:, [names.index(c) for c in stack["p_columns"]]]
    terms = stack_terms(p, x[:, names.index(stack["severity_column"])])
    return terms @ np.asarray(stack["coef"], dtype=np.float64)


def offset(x: np.ndarray, table: pd.DataFrame, names: list[str], stack: dict[str, Any] | None,
           hybrid: dict[str, Any] | None) -> np.ndarray:
    """Log-odds added to ``a * raw + b``: the degradation stack's or the hybrid's term."""
    if hybrid is None:
        return degradation_offset(stack, x, names)
    return hybrid_offset(hybrid, table)
