"""How well a risk reads as a probability of error: expected calibration error, reliability table."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.metrics._checks import _check_count, _require_unit, _validate
from featrisk.metrics._kernels import _bin_index, _ece_w, _ties

__all__ = ["calibration_table", "ece"]


def ece(error: npt.ArrayLike, risk: npt.ArrayLike, *, n_bins: int = 15) -> float:
    """Measure the expected calibration error of ``risk`` as a probability of error.

    ECE = sum_b (n_b / n) |mean risk_b - error rate_b| over ``n_bins`` equal-width bins of
    [0, 1]; bin k covers (k/n_bins, (k+1)/n_bins] and bin 0 also holds 0.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float in [0, 1], shape (n,)
        Predicted probability of error.
    n_bins : int, default 15
        Number of bins, >= 1.

    Returns
    -------
    float
        In [0, 1]; lower is better, 0 = calibrated within every bin.

    References
    ----------
    Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
    """
    n_bins = _check_count(n_bins, "n_bins")
    e, r = _validate(error, risk)
    _require_unit(r)
    _, es, rs, starts = _ties(e, r)
    return float(_ece_w(es, rs, starts, np.ones((1, e.size)), n_bins)[0])


def calibration_table(
    error: npt.ArrayLike, risk: npt.ArrayLike, *, n_bins: int = 10
) -> pd.DataFrame:
    """Reliability table: per non-empty equal-width bin, mean risk against error rate.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float in [0, 1], shape (n,)
        Predicted probability of error.
    n_bins : int, default 10
        Number of bins, >= 1; bins as in :func:`ece`.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin`` (index k for (k/n_bins, (k+1)/n_bins]), ``mean_risk``, ``error_rate``
        (both in [0, 1]; calibrated when equal) and ``count``. Empty bins are left out.
    """
    n_bins = _check_count(n_bins, "n_bins")
    e, r = _validate(error, risk)
    _require_unit(r)
    b = _bin_index(r, n_bins)
    count = np.bincount(b, minlength=n_bins)
    keep = np.flatnonzero(count)
    return pd.DataFrame(
        {
            "bin": keep,
            "mean_risk": np.bincount(b, r, n_bins)[keep] / count[keep],
            "error_rate": np.bincount(b, e, n_bins)[keep] / count[keep],
            "count": count[keep],
        }
    )
