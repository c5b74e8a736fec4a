"""Operating points of a RiskModel: the out-of-fold predictions kept, and which images to flag.

A model keeps its calibrated out-of-fold risks and the outcomes (at most
:data:`MAX_OOF_ROWS`) to choose thresholds by flag budget or by target accuracy of the
accepted images (:func:`featrisk.metrics.threshold_for`); an image is flagged when its risk
reaches the threshold, when it has no risk, or when it is more unusual than an
atypicality threshold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_OOF_ROWS", "flags", "kept_oof"]

#: Most out-of-fold rows kept in a model (a seeded subsample beyond this).
MAX_OOF_ROWS = 200_000


def kept_oof(risk: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The out-of-fold risks and outcomes a model keeps: all, or a seeded subsample."""
    if len(risk) > MAX_OOF_ROWS:
        keep = np.sort(np.random.default_rng(0).choice(len(risk), MAX_OOF_ROWS, replace=False))
        risk, error = risk[keep], error[keep]
    return np.asarray(risk, dtype=np.float64), np.asarray(error, dtype=np.int8)


def flags(risk: np.ndarray, threshold: float, atypicality: np.ndarray,
          atypicality_threshold: float | None) -> np.ndarray:
    """True where ``risk >= threshold``, the risk is NaN, or (with an atypicality threshold)
    the image is at least that unusual."""
    flagged = np.where(np.isnan(risk), True, risk >= threshold)
    if atypicality_threshold is not None:
        flagged |= atypicality >= atypicality_threshold
    return flagged.astype(bool)
