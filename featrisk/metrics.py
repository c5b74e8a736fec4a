"""Scores for a risk predictor: ranking, calibration, selective risk and flag budgets.

Convention everywhere: ``error`` is 1 (or ``True``) where the image classifier was wrong and 0
where it was right; ``risk`` is the predicted probability of that, higher = more likely wrong.
Non-finite risks (NaN, inf) are rejected, never dropped: remove unreadable images first.

Every ranking score is computed once per tie group of equal risks, by one set of weighted
kernels. A point estimate uses weight 1 per row; the bootstrap uses the number of times each
row was drawn, so :func:`bootstrap_ci` scores a whole block of resamples without re-sorting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

_CHUNK = 64  # bootstrap resamples drawn and scored per vectorised block
_Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


# ---------------------------------------------------------------- validation
def _as_error(error: npt.ArrayLike, name: str) -> np.ndarray:
    e = np.asarray(error)
    if e.dtype == object:  # e.g. a pandas nullable column holding <NA>: report which rows
        try:
            e = e.astype(float)
        except (TypeError, ValueError):
            pass
    if e.ndim != 1:
        raise ValueError(f"{name} must be 1-D; received shape {e.shape}")
    if e.dtype != bool and not np.issubdtype(e.dtype, np.number):
        raise ValueError(
            f"{name} must be bool or 0/1 (1 = misclassified); received dtype {e.dtype}"
        )
    bad = np.flatnonzero((e != 0) & (e != 1))
    if bad.size:
        raise ValueError(
            f"{name} must hold only 0/1 or bool (1 = misclassified); received "
            f"{e[bad[:5]].tolist()} at index {bad[:5].tolist()}{' ...' if bad.size > 5 else ''}"
        )
    return e.astype(float)


def _as_risk(risk: npt.ArrayLike, name: str) -> np.ndarray:
    try:
        r = np.asarray(risk, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; received {exc}") from None
    if r.ndim != 1:
        raise ValueError(f"{name} must be 1-D; received shape {r.shape}")
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        raise ValueError(
            f"{name} must be finite, no NaN or inf; received {bad.size} non-finite value(s) at "
            f"index {bad[:10].tolist()}{' ...' if bad.size > 10 else ''}; "
            "drop unreadable rows before scoring"
        )
    return r


def _validate(error, risk, *, names=("error", "risk")) -> tuple[np.ndarray, np.ndarray]:
    e, r = _as_error(error, names[0]), _as_risk(risk, names[1])
    if e.size != r.size:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length; received {e.size} and {r.size}"
        )
    if e.size == 0:
        raise ValueError(f"{names[0]} and {names[1]} must not be empty; received 0 rows")
    return e, r


def _require_unit(r: np.ndarray, name: str = "risk") -> None:
    bad = np.flatnonzero((r < 0) | (r > 1))
    if bad.size:
        raise ValueError(
            f"{name} must lie in [0, 1] for calibration; received {r[bad[:5]].tolist()} "
            f"at index {bad[:5].tolist()}"
        )


def _require_classes(e: np.ndarray, metric: str, *, need_negatives: bool = True) -> None:
    n_err = int(e.sum())
    if n_err == 0 or (need_negatives and n_err == e.size):
        which = "0 (correct)" if n_err == 0 else "1 (misclassified)"
        raise ValueError(
            f"{metric} is undefined when only one class is present; error must contain both "
            f"0 and 1, received {e.size} row(s) that are all {which}"
        )


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; received {value!r}")
    return int(value)


def _check_rate(value: Any, name: str, *, allow_one: bool) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not (0 < value < 1 or (allow_one and value == 1)):
        interval = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"{name} must be a number in {interval}; received {value!r}")
    return float(value)


# ---------------------------------------------------------------- weighted kernels
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


# ---------------------------------------------------------------- ranking
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


# ---------------------------------------------------------------- selective risk
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


# ---------------------------------------------------------------- calibration
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


# ---------------------------------------------------------------- decisions
def _flag_threshold(r: np.ndarray, rate: float) -> float:
    """Risk of the ceil(rate * n)-th highest image; flagging risk >= it flags at least rate."""
    k = max(1, math.ceil(round(rate * r.size, 9)))  # round: 0.1 * 30 is 3.0000000000000004
    return float(np.partition(r, r.size - k)[r.size - k])


def budget_table(
    error: npt.ArrayLike, risk: npt.ArrayLike, *, flag_rates: Iterable[float] = (0.05, 0.10, 0.20)
) -> pd.DataFrame:
    """Tabulate what flagging the riskiest share of images buys, for each flag rate.

    For each rate the threshold is the risk of the ceil(rate * n)-th highest image and every
    image with risk >= threshold is flagged, so ties at the boundary are all flagged and
    ``flagged_share`` may exceed ``flag_rate``. Same rule as :func:`threshold_for`.

    Parameters
    ----------
    error : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    risk : array-like of float, shape (n,)
        Predicted risk, higher = more likely wrong. Must be finite.
    flag_rates : iterable of float in (0, 1], default (0.05, 0.10, 0.20)
        Target shares of images to flag for review.

    Returns
    -------
    pandas.DataFrame
        One row per rate: ``flag_rate``, ``threshold``, ``n_flagged``, ``flagged_share``
        (actual share flagged), ``accepted_accuracy`` (1 - error rate of the unflagged, higher
        is better, NaN if all are flagged) and ``errors_caught`` (share of all errors that are
        flagged, higher is better, NaN if there are no errors).
    """
    rates = [_check_rate(x, "flag_rates entries", allow_one=True) for x in flag_rates]
    if not rates:
        raise ValueError("flag_rates must hold at least one rate in (0, 1]; received none")
    e, r = _validate(error, risk)
    rows = []
    for rate in rates:
        t = _flag_threshold(r, rate)
        flagged = r >= t
        n_flag, n_err = int(flagged.sum()), e.sum()
        rows.append(
            {
                "flag_rate": rate,
                "threshold": t,
                "n_flagged": n_flag,
                "flagged_share": n_flag / e.size,
                "accepted_accuracy": 1 - e[~flagged].mean() if n_flag < e.size else math.nan,
                "errors_caught": e[flagged].sum() / n_err if n_err else math.nan,
            }
        )
    return pd.DataFrame(rows)


def threshold_for(
    risk_oof: npt.ArrayLike,
    error_oof: npt.ArrayLike,
    *,
    flag_rate: float | None = None,
    target_accuracy: float | None = None,
) -> float:
    """Choose a risk threshold on out-of-fold predictions; images with risk >= it are flagged.

    Parameters
    ----------
    risk_oof : array-like of float, shape (n,)
        Out-of-fold predicted risk. Must be finite.
    error_oof : array-like of bool or {0, 1}, shape (n,)
        1 where the classifier was wrong.
    flag_rate : float in (0, 1), optional
        Flag this share: the threshold is the risk of the ceil(flag_rate * n)-th highest
        image, so at least this share is flagged (more when risks tie at the boundary).
    target_accuracy : float in (0, 1], optional
        Return the largest threshold (fewest flags) at which the accepted images
        (risk < threshold, at least one) reach this accuracy. Accuracy is not monotone in the
        threshold, so all candidates are scanned.

    Returns
    -------
    float
        An observed risk value, or ``math.inf`` (flag nothing) when all images together
        already reach ``target_accuracy``.

    Raises
    ------
    ValueError
        If not exactly one of ``flag_rate`` and ``target_accuracy`` is given, either is out of
        range, or ``target_accuracy`` is unreachable (the message gives the best accuracy).
    """
    if (flag_rate is None) == (target_accuracy is None):
        got = "neither" if flag_rate is None else f"both ({flag_rate=}, {target_accuracy=})"
        raise ValueError(
            f"threshold_for needs exactly one of flag_rate or target_accuracy; received {got}"
        )
    e, r = _validate(error_oof, risk_oof, names=("error_oof", "risk_oof"))
    if flag_rate is not None:
        return _flag_threshold(r, _check_rate(flag_rate, "flag_rate", allow_one=False))
    target = _check_rate(target_accuracy, "target_accuracy", allow_one=True)
    _, es, rs, starts = _ties(e, r)
    n_acc = np.r_[starts[1:], e.size]  # accepted count for each candidate, ascending
    n_err = np.cumsum(es)[n_acc - 1]
    accuracy = (n_acc - n_err) / n_acc
    candidates = np.r_[rs[starts[1:]], math.inf]
    ok = np.flatnonzero(accuracy >= target)
    if ok.size == 0:
        best = int(np.argmax(accuracy))
        raise ValueError(
            f"target_accuracy={target} is unreachable on these out-of-fold predictions; the best "
            f"achievable accuracy of accepted images is {accuracy[best]:.4f} (threshold "
            f"{candidates[best]}); lower target_accuracy or use flag_rate"
        )
    return float(candidates[ok[-1]])


# ---------------------------------------------------------------- bootstrap
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
