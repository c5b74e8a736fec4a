"""The atypicality reference a RiskModel keeps: its typical training images' image features.

Typical images are the training images the classifier got right and, for degradation-aware
models, that the degradation estimator takes for clean (unless too few are left); the
reference (:class:`featrisk.atypicality.Atypicality`) scores how unusual any image's
statistics are next to them, without a classifier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from featrisk.atypicality import MIN_IMAGES, Atypicality

__all__ = ["atypicality_of", "fit_reference"]


def fit_reference(x: np.ndarray, y: np.ndarray, names: list[str],
                  n_base: int) -> Atypicality | None:
    """Atypicality reference of a model's training inputs ``x`` (columns ``names``).

    Parameters
    ----------
    x : ndarray, shape (n, len(names))
        The booster's inputs on the readable training images; the first ``n_base`` columns
        are image features, the reference reads those.
    y : ndarray of {0, 1}, shape (n,)
        1 where the classifier was wrong.
    names : list of str
        Column names of ``x``.
    n_base : int
        Number of image-feature columns.

    Returns
    -------
    Atypicality or None
        None when there is nothing to measure: no image feature (``features=[]``), fewer than
        :data:`featrisk.atypicality.MIN_IMAGES` typical images, or no column that varies.
    """
    typical = y == 0
    if "degradation_p_none" in names:  # right, and no known damage seen on it
        typical &= x[:, names.index("degradation_p_none")] >= 0.5
        if typical.sum() < MIN_IMAGES:
            typical = y == 0
    base = x[typical, :n_base]
    ok = np.isfinite(base).all(axis=1)
    if base.shape[1] == 0 or ok.sum() < MIN_IMAGES:  # features=[]: nothing to measure
        return None
    try:  # columns constant on the typical images are scaled by their spread over all
        return Atypicality().fit(base[ok], names[:n_base], wider=x[:, :n_base])
    except ValueError:  # no column varies: nothing to measure either
        return None


def atypicality_of(reference: Atypicality | None, table: pd.DataFrame) -> np.ndarray:
    """Atypicality percentile per row of a design table (NaN where unavailable)."""
    if reference is None:
        return np.full(len(table), np.nan)
    return reference.percentile(table[reference.columns_].to_numpy(np.float64))
