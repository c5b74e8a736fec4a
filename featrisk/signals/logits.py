"""Failure scores from one forward pass: softmax probabilities and, when available, logits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.metrics import auroc
from featrisk.signals import _checks as chk

__all__ = ["choose_pnorm", "logit_scores"]

#: p of MaxLogit-pNorm when ``pnorm_p`` is not given (Cattelan & Silva's default).
DEFAULT_PNORM = 2
_SHAPE = "(n_images, n_classes >= 2)"


def _pnorm_value(value: Any, name: str) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0 (e.g. 2); received {value!r}")
    return float(value)


def _maxlogit_pnorm(z: np.ndarray, p: float) -> np.ndarray:
    """``max(c) / ||c||_p`` with ``c`` the row-centred logits; 0 where every logit is equal."""
    c = z - z.mean(axis=1, keepdims=True)
    scale = np.abs(c).max(axis=1, keepdims=True)  # divide first: |c|**p never overflows
    flat = scale[:, 0] == 0
    u = c / np.where(scale > 0, scale, 1.0)
    norm = (np.abs(u) ** p).sum(axis=1) ** (1.0 / p)
    return np.where(flat, 0.0, u.max(axis=1) / np.where(flat, 1.0, norm))


def logit_scores(
    logits: npt.ArrayLike | None = None,
    *,
    probs: npt.ArrayLike | None = None,
    pnorm_p: float | None = None,
) -> pd.DataFrame:
    """Per-image failure scores from a classifier's logits or softmax probabilities.

    Every column is oriented so that higher = more likely wrong.

    Parameters
    ----------
    logits : array-like, shape (n_images, n_classes >= 2), optional
        Finite pre-softmax outputs. Their softmax (computed stably, row maximum subtracted)
        gives the probabilities unless ``probs`` is also given.
    probs : array-like, shape (n_images, n_classes >= 2), optional
        Class probabilities: finite, >= 0, each row summing to 1 within 0.01 (renormalised).
        When given with ``logits`` (e.g. temperature-scaled probabilities), the probability
        scores read ``probs`` and the logit scores read ``logits``.
    pnorm_p : float > 0, optional
        p of ``signal_maxlogit_pnorm``; default :data:`DEFAULT_PNORM`. Choose it on
        validation data with :func:`choose_pnorm`.

    Returns
    -------
    DataFrame
        One float64 row per image, index 0..n-1, with K = n_classes:

        - ``signal_max_softmax``: 1 - max p, in [0, 1 - 1/K].
        - ``signal_margin``: 1 - (p1 - p2), the two largest probabilities, in [0, 1].
        - ``signal_entropy``: entropy of p / log K, in [0, 1].
        - ``signal_doctor``: DOCTOR's (1 - sum p^2) / sum p^2, in [0, K - 1].

        Only when ``logits`` is given:

        - ``signal_energy``: the energy -logsumexp(logits) at temperature 1, unbounded
          (shifts with the logits' offset; compare rows of one classifier only).
        - ``signal_maxlogit_pnorm``: minus the largest centred logit divided by the p-norm
          of the centred logits, in [-1, 0]; 0 when all logits of the row are equal.

    Raises
    ------
    ValueError
        If neither input is given, the shapes differ or are not (n, K >= 2), a value is
        not finite, ``probs`` rows are not probabilities, or ``pnorm_p`` is not > 0.

    References
    ----------
    Hendrycks & Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution
    Examples in Neural Networks", ICLR 2017 (max softmax).
    Granese, Romanelli, Gorla, Palamidessi & Piantanida, "DOCTOR: A Simple Method for
    Detecting Misclassification Errors", NeurIPS 2021.
    Liu, Wang, Owens & Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020.
    Cattelan & Silva, "How to Fix a Broken Confidence Estimator: Evaluating Post-hoc
    Methods for Selective Classification with Deep Neural Networks", 2023 (MaxLogit-pNorm).
    """
    if logits is None and probs is None:
        raise ValueError("logit_scores needs logits or probs (or both); received neither")
    p_norm = DEFAULT_PNORM if pnorm_p is None else _pnorm_value(pnorm_p, "pnorm_p")
    z = None if logits is None else chk.array(logits, "logits", ndim=2, shape=_SHAPE, min_classes=2)
    p = chk.softmax(z) if probs is None else chk.probabilities(probs, "probs", shape=_SHAPE)
    if z is not None and z.shape != p.shape:
        raise ValueError(f"logits and probs must have the same shape; received {z.shape} and {p.shape}")
    k = p.shape[1]
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    gini = (p * p).sum(axis=1)
    cols = {
        "signal_max_softmax": 1.0 - top2[:, 0],
        "signal_margin": 1.0 - (top2[:, 0] - top2[:, 1]),
        "signal_entropy": np.minimum(chk.entropy(p) / np.log(k), 1.0),
        "signal_doctor": (1.0 - gini) / gini,
    }
    if z is not None:
        cols["signal_energy"] = -chk.logsumexp(z)
        cols["signal_maxlogit_pnorm"] = -_maxlogit_pnorm(z, p_norm)
    return chk.frame(cols)


def choose_pnorm(
    logits: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    candidates: Iterable[int] = (1, 2, 3, 4, 5, 6, 8, 10),
) -> int:
    """The p whose MaxLogit-pNorm best ranks the errors of validation images.

    Parameters
    ----------
    logits : array-like, shape (n_images, n_classes >= 2)
        Finite logits of validation images (not the images to be scored later).
    correct : array-like of bool or {0, 1}, shape (n_images,)
        1 where the classifier was right; both outcomes must occur.
    candidates : iterable of int >= 1, default (1, 2, 3, 4, 5, 6, 8, 10)
        Values of p to try.

    Returns
    -------
    int
        The candidate with the highest AUROC of ``signal_maxlogit_pnorm`` for predicting
        errors (``~correct``); the first in ``candidates`` order among ties. Pass it as
        ``logit_scores(..., pnorm_p=p)``.

    Raises
    ------
    ValueError
        If ``candidates`` is empty or holds a non-integer or a value < 1, the logits are
        invalid (see :func:`logit_scores`), or ``correct`` is invalid or holds one outcome only.

    References
    ----------
    Cattelan & Silva, 2023 (see :func:`logit_scores`): p is tuned on held-out data.
    """
    cands = [chk.integer(c, "candidates entries", 1) for c in candidates]
    if not cands:
        raise ValueError("candidates must hold at least one integer p >= 1; received none")
    z = chk.array(logits, "logits", ndim=2, shape=_SHAPE, min_classes=2)
    ok = chk.flags(correct, "correct", len(z))
    if ok.all() or not ok.any():
        which = "correct" if ok.all() else "wrong"
        raise ValueError(f"correct must hold both outcomes to rank errors; received {ok.size} rows, "
                         f"all {which}")
    scores = [auroc(~ok, -_maxlogit_pnorm(z, float(c))) for c in cands]
    return cands[int(np.argmax(scores))]
