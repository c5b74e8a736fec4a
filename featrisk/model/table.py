"""The per-image table of :func:`featrisk.predict`: risk, atypicality, flag, reasons, error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featrisk.model.atypical import atypicality_of
from featrisk.model.explain import ExplainMixin, contributions_frame
from featrisk.model.thresholds import flags

__all__ = ["risk_table"]


def risk_table(model: ExplainMixin, X: Any, *, extra: pd.DataFrame | None = None,
               threshold: float | None = None, top_reasons: int = 3,
               atypicality_threshold: float | None = None) -> pd.DataFrame:
    """path, risk, atypicality, flagged, reasons, reason_features, error per image (see
    :func:`featrisk.predict`)."""
    if atypicality_threshold is not None:
        model._check_atypicality()
    table, x = model._matrix(X, extra)
    risk = model._calibrate(model._raw(table, x), x, table)
    atypicality = atypicality_of(getattr(model, "atypicality_", None), table)
    thr = model.threshold_ if threshold is None else float(threshold)
    if top_reasons > 0:
        contributions = contributions_frame(model.booster_, model.feature_names_, table, x)
        words, columns = model._reasons(contributions, table, top=top_reasons)
    else:
        words = columns = [""] * len(table)
    return pd.DataFrame({
        "path": table["path"].to_numpy(),
        "risk": risk,
        "atypicality": atypicality,
        "flagged": flags(risk, thr, atypicality, atypicality_threshold),
        "reasons": pd.Series(words, dtype=object),
        "reason_features": pd.Series(columns, dtype=object),
        "error": _row_errors(model, table, risk),
    })


def _row_errors(model: ExplainMixin, table: pd.DataFrame, risk: np.ndarray) -> pd.Series:
    """Why each row has no risk: the image's read error, or for a readable image the input
    the risk could not be computed without (None where there is a risk)."""
    errors = [e if isinstance(e, str) else None for e in table["error"]]
    hybrid = getattr(model, "hybrid_", None)
    columns = [] if hybrid is None else hybrid["columns"]
    for i in np.flatnonzero(np.isnan(risk)):
        if errors[i] is not None:
            continue
        path = table["path"].iloc[i]
        missing = [c for c in columns if not np.isfinite(table[c].iloc[i])]
        if missing:
            errors[i] = (f"{path}: {', '.join(missing)} missing; the hybrid stack needs the "
                         "classifier's signals it was fitted with for every image")
        else:
            errors[i] = f"{path}: no risk, an input value is not finite"
    return pd.Series(errors, dtype=object)
