"""Uncertainty scores from a classifier's softmax outputs, for users who have them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["softmax_features"]


def softmax_features(probs: np.ndarray | pd.DataFrame, *, index: pd.Index | None = None) -> pd.DataFrame:
    """Classic uncertainty scores of softmax outputs, to pass to ``fit``/``predict`` as ``extra``.

    Parameters
    ----------
    probs : array-like, shape (n_images, n_classes)
        Class probabilities per image (rows sum to 1; they are renormalised if not).

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
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    sums = p.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise ValueError("every row of probs needs a positive sum")
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
