"""Scores for a risk predictor: ranking, calibration, selective risk and flag budgets.

Convention everywhere: ``error`` is 1 (or ``True``) where the image classifier was wrong and 0
where it was right; ``risk`` is the predicted probability of that, higher = more likely wrong.
Non-finite risks (NaN, inf) are rejected, never dropped: remove unreadable images first.

Every ranking score is computed once per tie group of equal risks, by one set of weighted
kernels. A point estimate uses weight 1 per row; the bootstrap uses the number of times each
row was drawn, so :func:`bootstrap_ci` scores a whole block of resamples without re-sorting.

Modules: :mod:`~featrisk.metrics.ranking` (AUROC, AP, risk-coverage, AURC),
:mod:`~featrisk.metrics.calibration` (ECE, reliability table),
:mod:`~featrisk.metrics.decisions` (flag budgets, thresholds),
:mod:`~featrisk.metrics.bootstrap` (intervals) and :mod:`~featrisk.metrics.summary`.
"""

from __future__ import annotations

from featrisk.metrics.bootstrap import bootstrap_ci
from featrisk.metrics.calibration import calibration_table, ece
from featrisk.metrics.decisions import budget_table, errors_caught, threshold_for
from featrisk.metrics.ranking import auprc, aurc, aurc_oracle, auroc, risk_coverage
from featrisk.metrics.summary import summary

__all__ = [
    "auprc",
    "aurc",
    "aurc_oracle",
    "auroc",
    "bootstrap_ci",
    "budget_table",
    "calibration_table",
    "ece",
    "errors_caught",
    "risk_coverage",
    "summary",
    "threshold_for",
]
