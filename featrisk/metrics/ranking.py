"""How well a risk ranks the errors: AUROC, average precision, the risk-coverage curve, AURC."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.metrics._checks import _as_error, _require_classes, _validate
from featrisk.metrics._kernels import _auprc_w, _aurc_w, _auroc_w, _point, _ties

__all__ = ["auprc", "aurc", "aurc_oracle", "auroc", "risk_coverage"]


def auroc(error: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Area under the ROC curve of ``risk`` for detecting ``error`` (Mann-Whitney U).

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.

    Returns
    -------
    float
        In [0, 1]; higher is better. 1 = every error outranks every correct image,
        0.5 = chance or all risks equal, 0 = reversed. Tied risks count one half (average ranks).

    Raises
    ------
    ValueError
        If only one class is present, the lengths differ, or ``risk`` has NaN/inf.

    References
    ----------
    Hanley & McNeil, "The meaning and use of the area under a ROC curve", Radiology, 1982.
    """
    e, r = _validate(error, risk)
    _require_classes(e, "auroc")
    return _point(_auroc_w, e, r)


def auprc(error: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Average precision of ``risk`` for retrieving errors, as scikit-learn computes it.

    AP = sum_k (R_k - R_{k-1}) P_k over the distinct risk values taken as thresholds from the
    highest down (step-wise, no interpolation); equal risks enter together as one threshold.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.

    Returns
    -------
    float
        In (0, 1]; higher is better. Chance level is the base error rate; 1 = perfect ranking.

    Raises
    ------
    ValueError
        If ``error`` has no 1 (precision is undefined), the lengths differ, or risk has NaN.
    """
    e, r = _validate(error, risk)
    _require_classes(e, "auprc", need_negatives=False)
    return _point(_auprc_w, e, r)


def risk_coverage(error: npt.ArrayLike, risk: npt.ArrayLike) -> pd.DataFrame:
    """Risk-coverage curve: accept images from the lowest risk up, one row per distinct risk.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.

    Returns
    -------
    pandas.DataFrame
        Columns ``coverage`` (share accepted, in (0, 1], increasing, last row 1),
        ``risk`` (error rate of the accepted images, in [0, 1], lower is better) and
        ``threshold`` (accepted = risk <= threshold; images with equal risk enter together).
    """
    e, r = _validate(error, risk)
    _, es, rs, starts = _ties(e, r)
    count = np.diff(np.r_[starts, e.size])
    cum_count, cum_err = np.cumsum(count), np.cumsum(np.add.reduceat(es, starts))
    return pd.DataFrame(
        {"coverage": cum_count / e.size, "risk": cum_err / cum_count, "threshold": rs[starts]}
    )


def aurc(error: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Area under the risk-coverage curve (AURC).

    The mean over coverages 1/n, 2/n, ..., 1 of the error rate of the accepted images, where
    images with equal risk are accepted together: the step area under :func:`risk_coverage`.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.

    Returns
    -------
    float
        In [0, 1]; lower is better. The best any risk can reach on these errors is
        :func:`aurc_oracle` (distinct risks ranking every correct image first);
        ``aurc - aurc_oracle`` is the excess AURC (E-AURC) of Geifman et al., comparable
        across classifiers with different error rates.

    References
    ----------
    Geifman, Uziel & El-Yaniv, "Bias-Reduced Uncertainty Estimation for Deep Neural
    Classifiers", ICLR 2019.
    """
    e, r = _validate(error, risk)
    return _point(_aurc_w, e, r)


def aurc_oracle(error: npt.ArrayLike) -> float:
    """Lowest AURC reachable on ``error``: the E-AURC reference of Geifman et al. (2019).

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.

    Returns
    -------
    float
        ``(1/n) * sum_{j=1..m} j / (n - m + j)`` for m errors among n rows, in [0, 1);
        0 when there are no errors. Close to ``r + (1 - r) ln(1 - r)`` for error rate r.
    """
    e = _as_error(error, "error")
    if e.size == 0:
        raise ValueError("error must not be empty; received 0 rows")
    n, m = e.size, int(e.sum())
    j = np.arange(1, m + 1)
    return float((j / (n - m + j)).sum() / n)
