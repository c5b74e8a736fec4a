"""Weighted kernels: every ranking and calibration score, computed once per tie group of risks.

A point estimate uses weight 1 per row; the bootstrap uses the number of times each row was
drawn (weights of shape (resamples, rows)), so :func:`featrisk.metrics.bootstrap_ci` scores a
whole block of resamples without re-sorting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _ties(e: np.ndarray, r: np.ndarray):
    """Sort ascending by risk; return order, sorted error, sorted risk, tie-group starts."""
    order = np.argsort(r, kind="stable")
    rs = r[order]
    starts = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
    return order, e[order], rs, starts


def _class_sums(es: np.ndarray, starts: np.ndarray, w: np.ndarray):
    """Weighted errors and correct rows per tie group, shape (resamples, groups)."""
    pos = np.add.reduceat(w * es, starts, axis=1)
    return pos, np.add.reduceat(w, starts, axis=1) - pos


def _auroc_w(es, rs, starts, w):
    pos, neg = _class_sums(es, starts, w)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _auprc_w(es, rs, starts, w):
    pos, neg = _class_sums(es, starts, w)
    pos, neg = pos[:, ::-1], neg[:, ::-1]  # highest risk first
    tp = np.cumsum(pos, axis=1)
    seen = tp + np.cumsum(neg, axis=1)
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * precision).sum(axis=1) / pos.sum(axis=1)


def _aurc_w(es, rs, starts, w):
    pos, neg = _class_sums(es, starts, w)
    count = pos + neg
    cum_count, cum_err = np.cumsum(count, axis=1), np.cumsum(pos, axis=1)
    sel = np.divide(cum_err, cum_count, out=np.zeros_like(cum_err), where=cum_count > 0)
    return (count * sel).sum(axis=1) / count.sum(axis=1)


def _bin_index(r: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin k covers (k/n_bins, (k+1)/n_bins]; bin 0 also holds 0 (as scikit-learn bins)."""
    return np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], r, side="left")


def _ece_w(es, rs, starts, w, n_bins: int = 15):
    b = _bin_index(rs, n_bins)  # rs is sorted, so every bin is one contiguous block
    bin_starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    gap = np.add.reduceat(w * rs, bin_starts, axis=1) - np.add.reduceat(w * es, bin_starts, axis=1)
    return np.abs(gap).sum(axis=1) / w.sum(axis=1)


def _point(kernel: _Kernel, e: np.ndarray, r: np.ndarray) -> float:
    _, es, rs, starts = _ties(e, r)
    return float(kernel(es, rs, starts, np.ones((1, e.size)))[0])
