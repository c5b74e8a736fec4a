"""Uncertainty scores from a classifier's softmax outputs, for users who have them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["softmax_features"]

#: Largest distance of a row's sum from 1 that is taken for rounding and renormalised.
SUM_TOLERANCE = 0.01


def softmax_features(probs: np.ndarray | pd.DataFrame, *, index: pd.Index | None = None) -> pd.DataFrame:
    """Classic uncertainty scores of softmax outputs, to pass to ``fit``/``predict`` as ``extra``.

    Parameters
    ----------
    probs : array-like, shape (n_images, n_classes)
        Class probabilities per image: finite, >= 0, each row summing to 1 within
        :data:`SUM_TOLERANCE` (rounding, e.g. of float16 outputs, is renormalised away).
        Logits, scores or truncated top-k probabilities are refused with the row at fault:
        apply the softmax over all classes first.

    Returns
    -------
    DataFrame
        ``softmax_max_prob`` (0-1, lower = riskier), ``softmax_margin`` (top-1 minus top-2,
        0-1, lower = riskier), ``softmax_entropy`` (nats, 0..log(n_classes), higher =
        riskier), ``softmax_gini`` (1 - sum p^2, 0..1-1/n_classes, higher = riskier).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (n_images, n_classes >= 2), got {p.shape}")
    hint = "pass softmax probabilities over all classes, not logits or scores"
    bad = np.flatnonzero(~np.isfinite(p).all(axis=1))
    if bad.size:
        raise ValueError(f"probs row {bad[0]} holds a NaN or infinite value ({bad.size} rows do)")
    bad = np.flatnonzero((p < 0).any(axis=1))
    if bad.size:
        raise ValueError(f"probs row {bad[0]} holds a negative value ({bad.size} rows do); {hint}")
    sums = p.sum(axis=1, keepdims=True)
    bad = np.flatnonzero(np.abs(sums[:, 0] - 1.0) > SUM_TOLERANCE)
    if bad.size:
        raise ValueError(f"probs row {bad[0]} sums to {sums[bad[0], 0]:.4g}, not 1 "
                         f"({bad.size} rows do); {hint}")
    p = p / sums
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.maximum(-np.where(p > 0, p * np.log(p), 0.0).sum(axis=1), 0.0)
    return pd.DataFrame(
        {
            "softmax_max_prob": top2[:, 0],
            "softmax_margin": top2[:, 0] - top2[:, 1],
            "softmax_entropy": ent,
            "softmax_gini": 1.0 - (p * p).sum(axis=1),
        },
        index=index if index is not None else (probs.index if isinstance(probs, pd.DataFrame) else None),
    )
