"""All scores of a risk predictor on one evaluation set, with bootstrap intervals, as JSON-ready
numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy.typing as npt

from featrisk.metrics._checks import _validate
from featrisk.metrics.bootstrap import bootstrap_ci
from featrisk.metrics.calibration import ece
from featrisk.metrics.decisions import budget_table
from featrisk.metrics.ranking import auprc, aurc, aurc_oracle, auroc

__all__ = ["summary"]


def summary(
    error: npt.ArrayLike,
    risk: npt.ArrayLike,
    *,
    groups: npt.ArrayLike | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    flag_rates: Iterable[float] = (0.05, 0.10, 0.20),
) -> dict[str, Any]:
    """All scores of a risk predictor on one evaluation set, with bootstrap intervals.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong; both classes must be present.
    risk : array-like of float in [0, 1], shape (n,)
        Predicted probability of error.
    groups : array-like, shape (n,), optional
        Source-image id per row, for a grouped bootstrap (see :func:`bootstrap_ci`).
    n_boot : int, default 1000
        Resamples per interval (95 %, percentile); all metrics share the same resamples.
    seed : int, default 0
        Bootstrap seed.
    flag_rates : iterable of float in (0, 1], default (0.05, 0.10, 0.20)
        Rates for :func:`budget_table`.

    Returns
    -------
    dict
        ``n``, ``base_error_rate``; ``auroc``, ``auprc``, ``aurc``, ``ece`` each as
        ``{"value", "low", "high"}``; ``aurc_oracle`` (E-AURC = aurc - aurc_oracle) and
        ``budget_table`` as a list of records. Plain Python numbers, ready for JSON.
    """
    e, r = _validate(error, risk)
    out: dict[str, Any] = {"n": int(e.size), "base_error_rate": float(e.mean())}
    for name, fn in (("auroc", auroc), ("auprc", auprc), ("aurc", aurc), ("ece", ece)):
        value, low, high = bootstrap_ci(fn, e, r, n_boot=n_boot, seed=seed, groups=groups)
        out[name] = {"value": value, "low": low, "high": high}
    out["aurc_oracle"] = aurc_oracle(e)
    out["budget_table"] = budget_table(e, r, flag_rates=flag_rates).to_dict(orient="records")
    return out
