"""Forward-selected logistic stack: a base score plus the classifier signals that earn their place.

A classifier's own scores (softmax, Monte Carlo dropout, embedding distances, the confusion
matrix; :mod:`featrisk.signals`) overlap heavily, and a logistic regression of all of them
overfits and can fall below the best one. The stack instead adds columns one at a time,
each time the one that raises the out-of-fold AUROC most, and stops when the gain falls
below :data:`MIN_GAIN`; only the kept columns are then fitted on every row. Used by
``RiskModel(hybrid="stack")`` (the image risk's log-odds is always kept) and by
:func:`featrisk.compare`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk._logistic import logistic_fit, logit

__all__ = ["MIN_GAIN", "SIGNAL_PREFIXES", "fit", "is_signal", "signal_values"]

#: Out-of-fold AUROC a column must add for the stack to keep it.
MIN_GAIN = 0.001

#: Column-name prefixes of classifier signals (:func:`featrisk.softmax_features`,
#: :mod:`featrisk.signals`): stack inputs under ``hybrid="stack"``, never booster inputs.
SIGNAL_PREFIXES = ("softmax_", "signal_")

#: Signals that are probabilities; the stack reads their log-odds.
PROBABILITIES = ("softmax_max_prob", "signal_max_softmax")


def is_signal(name: str) -> bool:
    """True for a classifier-signal column name (see :data:`SIGNAL_PREFIXES`)."""
    return name.startswith(SIGNAL_PREFIXES)


def signal_values(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The stack's input matrix: ``columns`` of ``table``, probabilities as log-odds."""
    return np.column_stack([logit(table[c].to_numpy(np.float64)) if c in PROBABILITIES
                            else table[c].to_numpy(np.float64) for c in columns])


def _oof_auroc(z: np.ndarray, error: np.ndarray, folds: np.ndarray) -> float:
    oof = np.zeros(len(z))
    for k in np.unique(folds):
        fit_rows = folds != k
        coef, b = logistic_fit(z[fit_rows], error[fit_rows])
        oof[~fit_rows] = z[~fit_rows] @ coef + b
    return metrics.auroc(error, oof)


def fit(x: np.ndarray, error: np.ndarray, folds: np.ndarray, *,
        keep: Sequence[int] = ()) -> tuple[list[int], np.ndarray, float]:
    """Choose columns of ``x`` by forward selection over ``folds``, then fit them on all rows.

    Parameters
    ----------
    x : ndarray of shape (n, m)
        Candidate inputs, finite; each column is standardised inside (ridge penalty).
    error : ndarray of shape (n,)
        1 where the classifier was wrong.
    folds : ndarray of shape (n,)
        Fold id per row for the out-of-fold AUROC of each candidate set (grouped folds
        when rows share a source).
    keep : sequence of int
        Columns always kept (the base score), in the model before any is chosen.

    Returns
    -------
    chosen : list of int
        Kept columns, ``keep`` first, then in the order they were added.
    coef, intercept
        ``sigmoid(x[:, chosen] @ coef + intercept)`` is the stacked probability of error.
    """
    x = np.asarray(x, np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    chosen = list(keep)
    best = _oof_auroc(z[:, chosen], error, folds) if chosen else -np.inf
    while len(chosen) < z.shape[1]:
        gains = {j: _oof_auroc(z[:, [*chosen, j]], error, folds)
                 for j in range(z.shape[1]) if j not in chosen}
        j = max(gains, key=gains.get)
        if gains[j] < best + MIN_GAIN:
            break
        chosen.append(j)
        best = gains[j]
    coef, b = logistic_fit(z[:, chosen], error)
    raw = coef / std[chosen]
    return chosen, raw, float(b - raw @ mean[chosen])
