"""Failure scores from the validation confusion matrix: how often a predicted class, or a pair
of classes the classifier hesitates between, was wrong before."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.errors import ModelFileError, NotFittedError
from featrisk.signals import _checks as chk

__all__ = ["ConfusionScorer"]

FORMAT = "featrisk-confusion-scorer"
FORMAT_VERSION = 1


def _shrunk(hits: np.ndarray, total: np.ndarray, prior: float, shrinkage: float) -> np.ndarray:
    """``(hits + shrinkage * prior) / (total + shrinkage)``; ``prior`` where the total is 0."""
    denom = total + shrinkage
    return np.where(denom > 0, (hits + shrinkage * prior) / np.where(denom > 0, denom, 1.0), prior)


def _runner_up(y: np.ndarray, probs: npt.ArrayLike | None,
               second: npt.ArrayLike | None) -> np.ndarray | None:
    """The runner-up class of each image, from ``second`` or ``probs`` (checked), or None.

    ``y`` holds the predicted classes; the runner-up from ``probs`` is the most likely
    class other than the predicted one. Raises ValueError when both are given, when they
    are invalid, or when a runner-up equals the predicted class.
    """
    if probs is not None and second is not None:
        raise ValueError("pass probs or second, not both; received both")
    if second is not None:
        b = chk.labels(second, "second", len(y))
        same = b == y
        if same.any():
            raise ValueError(f"second must differ from y_pred (the runner-up class); received "
                             f"the predicted class in {chk.where(same)}")
        return b
    if probs is None:
        return None
    p = chk.array(probs, "probs", ndim=2, shape="(n_images, n_classes >= 2)", min_classes=2)
    if len(p) != len(y):
        raise ValueError(f"probs must hold one row per image ({len(y)}); received {len(p)}")
    beyond = y >= p.shape[1]
    if beyond.any():
        raise ValueError(f"y_pred must index a column of probs (< {p.shape[1]}); received "
                         f"{int(y[beyond][0])} (first shown) in {chk.where(beyond)}")
    p = p.copy()
    p[np.arange(len(y)), y] = -np.inf
    return p.argmax(axis=1)


def _pair_confusion(c: np.ndarray, y: np.ndarray, b: np.ndarray, shrinkage: float) -> np.ndarray:
    """Shrunk swap rate of each (predicted ``y``, runner-up ``b``) pair in the counts ``c``.

    A pair with a class beyond ``c`` scores the pooled rate, errors / ((K - 1) * n).
    """
    k = len(c)
    both = (y < k) & (b < k)
    a_, b_ = np.where(both, y, 0), np.where(both, b, 0)
    swaps = np.where(both, c[a_, b_] + c[b_, a_], 0)
    true_count = c.sum(axis=1)
    seen = np.where(both, true_count[a_] + true_count[b_], 0)
    pooled = (c.sum() - np.trace(c)) / ((k - 1) * c.sum())
    return _shrunk(swaps, seen, pooled, shrinkage)


def _top_pairs(c: np.ndarray, n: int) -> pd.DataFrame:
    """The ``n`` class pairs most confused in the counts ``c``; see ``top_confused_pairs``."""
    a, b = np.triu_indices(len(c), 1)
    count = c[a, b] + c[b, a]
    true_count = c.sum(axis=1)
    keep = np.flatnonzero(count > 0)
    a, b, count = a[keep], b[keep], count[keep]
    rate = count / (true_count[a] + true_count[b])
    order = np.lexsort((b, a, -rate, -count))[:n]
    return pd.DataFrame({"class_a": a[order].astype(np.int64), "class_b": b[order].astype(np.int64),
                         "count": count[order].astype(np.int64), "rate": rate[order]})


class ConfusionScorer:
    """Validation error rate of the predicted class and of the top-two class pair.

    Parameters
    ----------
    shrinkage : float >= 0, default 10.0
        Weight, in images, of the overall rate in every shrunk rate: a class predicted for
        c validation images with e errors scores (e + shrinkage * overall) / (c + shrinkage),
        so rare classes stay near the overall rate instead of at 0 or 1.

    Attributes
    ----------
    confusion_ : ndarray of int64, shape (K, K)
        Validation counts, ``confusion_[true, predicted]``.
    n_classes_ : int
        K.
    error_rate_ : float
        Overall validation error rate.
    """

    def __init__(self, *, shrinkage: float = 10.0) -> None:
        self.shrinkage = shrinkage

    def _shrinkage(self) -> float:
        s = self.shrinkage
        ok = isinstance(s, int | float | np.integer | np.floating) and not isinstance(s, bool)
        if not ok or not np.isfinite(s) or s < 0:
            raise ValueError(f"shrinkage must be a finite number >= 0 (images); received {s!r}")
        return float(s)

    def _learn(self, confusion: np.ndarray) -> ConfusionScorer:
        self.confusion_ = confusion
        self.n_classes_ = len(confusion)
        self.error_rate_ = float(1.0 - np.trace(confusion) / confusion.sum())
        return self

    def fit(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *,
            n_classes: int | None = None) -> ConfusionScorer:
        """Count the validation confusion matrix.

        Parameters
        ----------
        y_true, y_pred : array-like of int, shape (n_images,)
            True and predicted class indices (>= 0) of validation images; n_images >= 1.
        n_classes : int >= 2, optional
            K; default one more than the largest label (at least 2).

        Returns
        -------
        ConfusionScorer
            ``self``, fitted.

        Raises
        ------
        ValueError
            If the labels are not non-negative integers of equal length, there are none, or
            a label is >= ``n_classes``.
        """
        self._shrinkage()
        yt = chk.labels(y_true, "y_true")
        yp = chk.labels(y_pred, "y_pred", len(yt))
        if yt.size == 0:
            raise ValueError("y_true and y_pred must hold at least one validation image; received 0")
        top = int(max(yt.max(), yp.max())) + 1
        if n_classes is None:
            k = max(top, 2)
        else:
            k = chk.integer(n_classes, "n_classes", 2)
            if top > k:
                raise ValueError(f"n_classes must exceed every label; received n_classes={k} but "
                                 f"label {top - 1}; pass the classifier's number of classes")
        return self._learn(np.bincount(yt * k + yp, minlength=k * k).reshape(k, k).astype(np.int64))

    def _check_fitted(self) -> None:
        if not hasattr(self, "confusion_"):
            raise NotFittedError("this ConfusionScorer is not fitted yet; call fit(y_true, y_pred) "
                                 "or ConfusionScorer.from_dict(d)")

    def transform(self, y_pred: npt.ArrayLike, *, probs: npt.ArrayLike | None = None,
                  second: npt.ArrayLike | None = None) -> pd.DataFrame:
        """Score images from their predicted class and, optionally, their runner-up class.

        Parameters
        ----------
        y_pred : array-like of int, shape (n_images,)
            Predicted classes; a class beyond the fitted K scores the overall rates.
        probs : array-like, shape (n_images, n_classes), optional
            Probabilities or logits (only their order is used): the runner-up is the most
            likely class other than ``y_pred``.
        second : array-like of int, shape (n_images,), optional
            The runner-up class itself, different from ``y_pred``. Give ``probs`` or
            ``second``, not both.

        Returns
        -------
        DataFrame
            One float64 row per image, index 0..n-1; higher = more likely wrong:

            - ``signal_class_error_rate``: shrunk share of validation images predicted as
              this class that were wrong, in [0, 1].
            - ``signal_pair_confusion``: shrunk share of validation images of true class a or
              b predicted as the other one, {a, b} = {predicted, runner-up}, in [0, 1]; the
              prior is the pooled rate over all pairs, errors / ((K - 1) * n). Only when
              ``probs`` or ``second`` is given.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`from_dict`.
        ValueError
            If the labels or ``probs`` are invalid, both ``probs`` and ``second`` are given,
            or the runner-up equals the predicted class.
        """
        self._check_fitted()
        s = self._shrinkage()
        y = chk.labels(y_pred, "y_pred")
        b = _runner_up(y, probs, second)
        c, k, overall = self.confusion_, self.n_classes_, self.error_rate_
        inside = y < k
        yy = np.where(inside, y, 0)
        count = np.where(inside, c.sum(axis=0)[yy], 0)
        wrong = count - np.where(inside, np.diag(c)[yy], 0)
        cols = {"signal_class_error_rate": _shrunk(wrong, count, overall, s)}
        if b is not None:
            cols["signal_pair_confusion"] = _pair_confusion(c, y, b, s)
        return chk.frame(cols)

    def top_confused_pairs(self, n: int = 10) -> pd.DataFrame:
        """The class pairs most often confused on validation, for reports.

        Parameters
        ----------
        n : int >= 1, default 10
            Most pairs returned.

        Returns
        -------
        DataFrame
            ``class_a`` < ``class_b`` (int), ``count`` (validation images of either class
            predicted as the other) and ``rate`` (count / images of either true class,
            unshrunk, in [0, 1]); pairs never confused are left out; most confused first
            (count, then rate, descending).
        """
        self._check_fitted()
        return _top_pairs(self.confusion_, chk.integer(n, "n", 1))

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-ready plain values: K x K integer counts and the parameter.

        Returns
        -------
        dict
            Reload with :meth:`from_dict`.
        """
        self._check_fitted()
        return {"format": FORMAT, "format_version": FORMAT_VERSION,
                "params": {"shrinkage": self._shrinkage()}, "confusion": self.confusion_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConfusionScorer:
        """Rebuild a fitted scorer from :meth:`to_dict` output.

        Raises
        ------
        ModelFileError
            If ``d`` is not this format and version, or the counts are not a K x K (K >= 2)
            matrix of non-negative integers with at least one image.
        """
        chk.check_format(d, "ConfusionScorer", FORMAT, FORMAT_VERSION)
        try:
            obj = cls(**d["params"])
            obj._shrinkage()
            raw = np.asarray(d["confusion"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"ConfusionScorer.from_dict: missing or invalid entry ({exc})") from None
        ok = (raw.ndim == 2 and raw.shape[0] == raw.shape[1] >= 2
              and np.issubdtype(raw.dtype, np.integer) and (raw >= 0).all() and raw.sum() > 0)
        if not ok:
            raise ModelFileError("ConfusionScorer.from_dict: confusion must be a K x K (K >= 2) matrix "
                                 "of counts >= 0 with at least one image; the dict was altered")
        return obj._learn(raw.astype(np.int64))
