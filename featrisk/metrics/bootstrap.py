"""Percentile bootstrap intervals of any metric, by row or by group, vectorised for the scores."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.metrics._checks import _check_count, _check_rate, _validate
from featrisk.metrics._kernels import _auprc_w, _aurc_w, _auroc_w, _ece_w, _Kernel, _ties
from featrisk.metrics.calibration import ece
from featrisk.metrics.ranking import auprc, aurc, auroc

__all__ = ["bootstrap_ci"]

_CHUNK = 64  # bootstrap resamples drawn and scored per vectorised block


def _group_layout(groups: npt.ArrayLike | None, n: int):
    if groups is None:
        codes = np.arange(n)
    else:
        g = np.asarray(groups)
        if g.ndim != 1 or g.size != n:
            raise ValueError(
                f"groups must be 1-D with one entry per row ({n}); received shape {g.shape}"
            )
        codes, _ = pd.factorize(g)
        missing = np.flatnonzero(codes < 0)
        if missing.size:
            raise ValueError(
                "groups must not contain missing values; received them at index "
                f"{missing[:10].tolist()}"
            )
    sizes = np.bincount(codes)
    return codes, np.argsort(codes, kind="stable"), np.cumsum(sizes) - sizes, sizes


def _draws(seed: int, n_units: int, n_boot: int) -> Iterator[np.ndarray]:
    """Blocks of resampled unit ids, shape (block, n_units); both bootstrap paths share them."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, _CHUNK):
        yield rng.integers(0, n_units, size=(min(_CHUNK, n_boot - start), n_units))


def _boot_generic(metric, arrays, layout, n_boot, seed) -> np.ndarray:
    _, by_group, starts, sizes = layout
    stats = []
    for block in _draws(seed, sizes.size, n_boot):
        for pick in block:
            s = sizes[pick]
            idx = by_group[np.repeat(starts[pick] - (np.cumsum(s) - s), s) + np.arange(s.sum())]
            try:
                stats.append(float(metric(*(a[idx] for a in arrays))))
            except ValueError:
                stats.append(math.nan)
    return np.asarray(stats)


def _boot_weighted(kernel: _Kernel, e, r, layout, n_boot, seed) -> np.ndarray:
    codes, _, _, sizes = layout
    order, es, rs, starts = _ties(e, r)
    codes_sorted, n_units = codes[order], sizes.size
    stats = []
    for block in _draws(seed, n_units, n_boot):
        flat = (block + n_units * np.arange(len(block))[:, None]).ravel()
        counts = np.bincount(flat, minlength=block.size).reshape(block.shape)
        stats.append(kernel(es, rs, starts, counts[:, codes_sorted].astype(float)))
    return np.concatenate(stats)


def bootstrap_ci(
    metric: Callable[..., float],
    *arrays: npt.ArrayLike,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: npt.ArrayLike | None = None,
) -> tuple[float, float, float]:
    """Percentile bootstrap confidence interval of ``metric(*arrays)``.

    Rows are resampled with replacement, or, when ``groups`` is given, whole groups are
    (cluster bootstrap: all variants of one source image enter or leave together). Resamples
    on which ``metric`` raises ``ValueError`` (e.g. :func:`auroc` drawing a single class) or
    returns NaN are skipped, so a tiny or very imbalanced set gives an interval from fewer
    resamples. :func:`auroc`, :func:`auprc`, :func:`aurc` and :func:`ece` (default bins) take a
    vectorised path that gives the same numbers as calling them on each resample; 1000
    resamples of 10 000 rows take 0.2-0.7 s (per-resample calls: 1-2 s).

    Parameters
    ----------
    metric : callable
        ``metric(*arrays) -> float``, e.g. :func:`auroc` with ``arrays = (error, risk)``.
    *arrays : array-like, each shape (n,)
        Rows to resample together.
    n_boot : int, default 1000
        Number of resamples, >= 1.
    alpha : float, default 0.05
        Two-sided level in (0, 1): the interval holds the central 1 - alpha of resamples.
    seed : int, default 0
        Seed of the local random generator; equal seeds give equal resamples for any metric.
    groups : array-like, shape (n,), optional
        Group label per row (e.g. the source image id); no missing values.

    Returns
    -------
    tuple of float
        ``(point, low, high)``: the metric on all rows and the alpha/2, 1 - alpha/2 quantiles.

    Raises
    ------
    ValueError
        If the arrays are missing or differ in length, an option is out of range, the metric
        fails on the full data, or it fails on every resample.

    References
    ----------
    Efron & Tibshirani, "An Introduction to the Bootstrap", 1993; Davison & Hinkley,
    "Bootstrap Methods and their Application", 1997, sec. 3.8 (clustered data).
    """
    n_boot = _check_count(n_boot, "n_boot")
    alpha = _check_rate(alpha, "alpha", allow_one=False)
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array after metric; received none")
    arrs = [np.asarray(a) for a in arrays]
    lengths = [len(a) for a in arrs]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"arrays passed to bootstrap_ci must have the same length; received {lengths}"
        )
    point = float(metric(*arrays))
    layout = _group_layout(groups, lengths[0])
    kernel = next((k for f, k in _WEIGHTED if f is metric), None)
    if kernel is not None and len(arrs) == 2:
        stats = _boot_weighted(kernel, *_validate(*arrs), layout, n_boot, seed)
    else:
        stats = _boot_generic(metric, arrs, layout, n_boot, seed)
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        raise ValueError(f"metric failed on all {n_boot} resamples; use more rows or fewer groups")
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return point, float(low), float(high)


_WEIGHTED: tuple[tuple[Callable[..., float], _Kernel], ...] = (
    (auroc, _auroc_w),
    (auprc, _auprc_w),
    (aurc, _aurc_w),
    (ece, _ece_w),
)
