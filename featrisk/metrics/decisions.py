"""Decisions on a risk: what flagging a share of images buys, and the threshold for a budget or
a target accuracy."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.metrics._checks import _check_rate, _validate
from featrisk.metrics._kernels import _ties

__all__ = ["budget_table", "errors_caught", "threshold_for"]


def _flag_threshold(r: np.ndarray, rate: float) -> float:
    """Risk of the ceil(rate * n)-th highest image; flagging risk >= it flags at least rate."""
    k = max(1, math.ceil(round(rate * r.size, 9)))  # round: 0.1 * 30 is 3.0000000000000004
    return float(np.partition(r, r.size - k)[r.size - k])


def budget_table(
    error: npt.ArrayLike, risk: npt.ArrayLike, *, flag_rates: Iterable[float] = (0.05, 0.10, 0.20)
) -> pd.DataFrame:
    """Tabulate what flagging the riskiest share of images buys, for each flag rate.

    For each rate the threshold is the risk of the ceil(rate * n)-th highest image and every
    image with risk >= threshold is flagged, so ties at the boundary are all flagged and
    ``flagged_share`` may exceed ``flag_rate``. Same rule as :func:`threshold_for`.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.
    flag_rates : iterable of float in (0, 1], default (0.05, 0.10, 0.20)
        Target shares of images to flag for review.

    Returns
    -------
    pandas.DataFrame
        One row per rate: ``flag_rate``, ``threshold``, ``n_flagged``, ``flagged_share``
        (actual share flagged), ``accepted_accuracy`` (1 - error rate of the unflagged, higher
        is better, NaN if all are flagged) and ``errors_caught`` (share of all errors that are
        flagged, higher is better, NaN if there are no errors).
    """
    rates = [_check_rate(x, "flag_rates entries", allow_one=True) for x in flag_rates]
    if not rates:
        raise ValueError("flag_rates must hold at least one rate in (0, 1]; received none")
    e, r = _validate(error, risk)
    rows = []
    for rate in rates:
        t = _flag_threshold(r, rate)
        flagged = r >= t
        n_flag = int(flagged.sum())
        rows.append(
            {
                "flag_rate": rate,
                "threshold": t,
                "n_flagged": n_flag,
                "flagged_share": n_flag / e.size,
                "accepted_accuracy": 1 - e[~flagged].mean() if n_flag < e.size else math.nan,
                "errors_caught": _caught(e, flagged),
            }
        )
    return pd.DataFrame(rows)


def _caught(e: np.ndarray, flagged: np.ndarray) -> float:
    n_err = e.sum()
    return float(e[flagged].sum() / n_err) if n_err else math.nan


def errors_caught(error: np.ndarray, risk: np.ndarray, rate: float) -> float:
    """Share of all errors among the images flagged at ``rate``, by :func:`budget_table`'s rule.

    The ``errors_caught`` of one ``budget_table`` row without building the table: cheap enough
    to bootstrap. ``error`` (0/1) and ``risk`` (finite) are NumPy arrays of one length, taken
    as given (no validation); NaN when there are no errors.
    """
    return _caught(error, risk >= _flag_threshold(risk, rate))


def threshold_for(
    risk_oof: npt.ArrayLike,
    error_oof: npt.ArrayLike,
    *,
    flag_rate: float | None = None,
    target_accuracy: float | None = None,
) -> float:
    """Choose a risk threshold on out-of-fold predictions; images with risk >= it are flagged.

    Parameters
    ----------
    risk_oof : array-like of float, shape (n,)
        Out-of-fold predicted risk. Must be finite.
    error_oof : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    flag_rate : float in (0, 1), optional
        Flag this share: the threshold is the risk of the ceil(flag_rate * n)-th highest
        image, so at least this share is flagged (more when risks tie at the boundary).
    target_accuracy : float in (0, 1], optional
        Return the largest threshold (fewest flags) at which the accepted images
        (risk < threshold, at least one) reach this accuracy. Accuracy is not monotone in the
        threshold, so all candidates are scanned.

    Returns
    -------
    float
        An observed risk value, or ``math.inf`` (flag nothing) when all images together
        already reach ``target_accuracy``.

    Raises
    ------
    ValueError
        If not exactly one of ``flag_rate`` and ``target_accuracy`` is given, either is out of
        range, or ``target_accuracy`` is unreachable (the message gives the best accuracy).
    """
    if (flag_rate is None) == (target_accuracy is None):
        got = "neither" if flag_rate is None else f"both ({flag_rate=}, {target_accuracy=})"
        raise ValueError(
            f"threshold_for needs exactly one of flag_rate or target_accuracy; received {got}"
        )
    e, r = _validate(error_oof, risk_oof, names=("error_oof", "risk_oof"))
    if flag_rate is not None:
        return _flag_threshold(r, _check_rate(flag_rate, "flag_rate", allow_one=False))
    target = _check_rate(target_accuracy, "target_accuracy", allow_one=True)
    _, es, rs, starts = _ties(e, r)
    n_acc = np.r_[starts[1:], e.size]  # accepted count for each candidate, ascending
    n_err = np.cumsum(es)[n_acc - 1]
    accuracy = (n_acc - n_err) / n_acc
    candidates = np.r_[rs[starts[1:]], math.inf]
    ok = np.flatnonzero(accuracy >= target)
    if ok.size == 0:
        best = int(np.argmax(accuracy))
        raise ValueError(
            f"target_accuracy={target} is unreachable on these out-of-fold predictions; the best "
            f"achievable accuracy of accepted images is {accuracy[best]:.4f} (threshold "
            f"{candidates[best]}); lower target_accuracy or use flag_rate"
        )
    return float(candidates[ok[-1]])
