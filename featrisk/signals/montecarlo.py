"""Failure scores from several stochastic forward passes (Monte Carlo dropout, ensembles)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.signals import _checks as chk

__all__ = ["mc_scores"]

_SHAPE = "(n_passes >= 2, n_images, n_classes >= 2)"


def mc_scores(probs: npt.ArrayLike) -> pd.DataFrame:
    """Per-image failure scores from T stochastic passes over the same images.

    Every column is oriented so that higher = more likely wrong.

    Parameters
    ----------
    probs : array-like, shape (n_passes >= 2, n_images, n_classes >= 2)
        Softmax probabilities of each pass (e.g. Monte Carlo dropout at test time, or the
        members of a deep ensemble): finite, >= 0, each row summing to 1 within 0.01
        (renormalised). Pass softmax outputs, not logits.

    Returns
    -------
    DataFrame
        One float64 row per image, index 0..n-1, with K = n_classes and m the mean of
        the passes:

        - ``signal_mc_max_softmax``: 1 - max m, in [0, 1 - 1/K].
        - ``signal_mc_entropy``: predictive entropy H(m) / log K, in [0, 1].
        - ``signal_mc_mutual_information``: (H(m) - mean over passes of H(p_t)) / log K,
          the disagreement part of the uncertainty (BALD), in [0, 1]; 0 when every pass
          gives the same probabilities.
        - ``signal_mc_disagreement``: share of passes whose top class differs from the
          top class of m, in [0, 1 - 1/T] for T passes.

    Raises
    ------
    ValueError
        If ``probs`` is not 3-D with T >= 2 and K >= 2, or a row is not probabilities (the
        message names the (pass, image) pairs at fault).

    References
    ----------
    Gal & Ghahramani, "Dropout as a Bayesian Approximation: Representing Model Uncertainty
    in Deep Learning", ICML 2016.
    Houlsby, Huszár, Ghahramani & Lengyel, "Bayesian Active Learning for Classification and
    Preference Learning", 2011 (mutual information, BALD).
    """
    p = chk.probabilities(probs, "probs", ndim=3, shape=_SHAPE)
    if p.shape[0] < 2:
        raise ValueError(f"probs must have shape {_SHAPE}; received shape {p.shape} "
                         "(one pass: use logit_scores(probs=probs[0]))")
    log_k = np.log(p.shape[2])
    mean = p.mean(axis=0)
    predictive = chk.entropy(mean)
    expected = chk.entropy(p).mean(axis=0)
    top = mean.argmax(axis=1)
    return chk.frame({
        "signal_mc_max_softmax": 1.0 - mean.max(axis=1),
        "signal_mc_entropy": np.minimum(predictive / log_k, 1.0),
        "signal_mc_mutual_information": np.clip((predictive - expected) / log_k, 0.0, 1.0),
        "signal_mc_disagreement": (p.argmax(axis=2) != top).mean(axis=0),
    })
