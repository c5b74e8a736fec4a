"""The hybrid stack of a RiskModel (``hybrid="stack"``): image risk plus the classifier's signals.

The classifier's own signals (``softmax_*`` columns, :func:`featrisk.softmax_features`, and
``signal_*`` columns, :mod:`featrisk.signals`) stay out of the booster, which learns from the
image alone (its TreeSHAP contributions stay image-only). The risk is a logistic regression
of the booster's Platt log-odds and the signals that raise the out-of-fold AUROC, chosen one
at a time on the cross-fitting folds (:func:`featrisk.stack.fit`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featrisk import stack

__all__ = ["booster_inputs", "fit_hybrid", "hybrid_offset"]


def booster_inputs(names: list[str], extra_names: list[str], *, hybrid: str,
                   calibration: str) -> list[str]:
    """The booster's inputs: all of ``names``, less the classifier signals under the stack."""
    if hybrid not in ("lightgbm", "stack"):
        raise ValueError(f"hybrid must be 'lightgbm' or 'stack', got {hybrid!r}")
    if hybrid == "lightgbm":
        return names
    if calibration == "stack":
        raise ValueError("hybrid='stack' and calibration='stack' cannot be combined; "
                         "choose one")
    if not any(stack.is_signal(c) for c in extra_names):
        raise ValueError("hybrid='stack' needs classifier signals in extra: softmax_* "
                         "(featrisk.softmax_features(probs)) or signal_* columns "
                         "(featrisk.signals); got "
                         f"{', '.join(extra_names) or 'no extra columns'}")
    return [f for f in names if not stack.is_signal(f)]


def fit_hybrid(platt: tuple[float, float], oof_raw: np.ndarray, y: np.ndarray,
               table: pd.DataFrame, folds: np.ndarray
               ) -> tuple[tuple[float, float], dict[str, Any]]:
    """Stack the Platt log-odds ``a * oof_raw + b`` with the signal columns of ``table``.

    Parameters
    ----------
    platt : (a, b)
        Platt scaling of the out-of-fold raw scores.
    oof_raw : ndarray, shape (n,)
        The booster's out-of-fold raw scores.
    y : ndarray of {0, 1}, shape (n,)
        1 where the classifier was wrong.
    table : DataFrame
        The training rows of ``oof_raw``, with every signal column.
    folds : ndarray, shape (n,)
        The cross-fitting folds, for the out-of-fold AUROC of each candidate signal.

    Returns
    -------
    (calibration, hybrid)
        ``calibration``: (a, b) with the stack's weight of the image log-odds folded in;
        ``hybrid``: ``{"columns": [...], "coef": [...]}`` of the signals kept.
    """
    a, b = platt
    names = [c for c in table.columns if stack.is_signal(c)]
    signals = stack.signal_values(table, names)
    bad = ~np.isfinite(signals).all(axis=0)
    if bad.any():
        raise ValueError(f"{', '.join(np.array(names)[bad])} missing or not finite "
                         "for some readable training images; hybrid='stack' "
                         "needs every signal for every image")
    chosen, coef, c = stack.fit(np.column_stack([a * oof_raw + b, signals]), y, folds, keep=[0])
    calibration = (float(coef[0] * a), float(coef[0] * b + c))
    return calibration, {"columns": [names[j - 1] for j in chosen[1:]],
                         "coef": [float(w) for w in coef[1:]]}


def hybrid_offset(hybrid: dict[str, Any], table: pd.DataFrame) -> np.ndarray:
    """Log-odds the hybrid stack adds per row: its weighted signals (probabilities as log-odds)."""
    if not hybrid["columns"]:
        return np.zeros(len(table))
    return stack.signal_values(table, hybrid["columns"]) @ np.asarray(hybrid["coef"], np.float64)
