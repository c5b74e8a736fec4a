"""Soft training targets for a RiskModel's booster: the outcomes blended with a teacher's risk.

The outcomes are noisy labels (the same damage that one photo survives breaks another). With
``denoise`` = w > 0 the booster learns ``(1 - w) * outcome + w * teacher`` instead, where the
teacher is the same kind of booster on the columns beside the image features (the
degradation estimator's outputs, ``extra`` columns), cross-fitted itself and Platt-scaled
against the outcomes. Fold k's targets come from a teacher fitted without fold k, so the
out-of-fold scores (calibration, thresholds, ``training_summary_``) never rest on fold k's
outcomes.
"""

from __future__ import annotations

import numpy as np

from featrisk._logistic import _sigmoid, platt_fit
from featrisk.folds import fold_ids
from featrisk.model.booster import BoosterSettings

__all__ = ["denoised_targets"]


def denoised_targets(x: np.ndarray, y: np.ndarray, grp: np.ndarray | None, names: list[str],
                     image: set[str], *, weight: float, booster: BoosterSettings
                     ) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Training targets: the outcomes blended with an out-of-fold teacher's risk.

    Parameters
    ----------
    x : ndarray, shape (n, len(names))
        The booster's inputs on the readable training images.
    y : ndarray of {0, 1}, shape (n,)
        1 where the classifier was wrong.
    grp : ndarray, shape (n,), optional
        Group per row; folds keep groups whole.
    names : list of str
        Column names of ``x``.
    image : set of str
        The image-feature columns; the teacher reads the others.
    weight : float in [0, 1)
        The teacher's weight (``RiskModel(denoise=...)``).
    booster : BoosterSettings
        Folds, seed and LightGBM parameters, shared with the booster taught.

    Returns
    -------
    (target, fold_targets, weight)
        ``target``: ``(1 - weight) * y + weight * teacher`` over all rows, for the final
        booster; ``fold_targets[k]``: the same for the rows outside fold k, from a teacher
        that never saw fold k (None without a teacher); ``weight`` 0.0, with ``y`` itself,
        when ``denoise`` is 0 or there is no column to teach from.
    """
    w = weight
    if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w < 1:
        raise ValueError(f"denoise must be a number in [0, 1), got {w!r}")
    cols = [i for i, f in enumerate(names) if f not in image]
    if w == 0 or not cols:
        return y.astype(np.float64), None, 0.0
    teacher_names = [names[i] for i in cols]
    params = booster.lgb_params(teacher_names)
    cv = booster.cv

    def blended(rows: np.ndarray) -> np.ndarray:
        g = None if grp is None else grp[rows]
        k = cv if g is None else min(cv, len(np.unique(g)))  # few groups left
        raw, _ = booster.cross_fit(x[rows][:, cols], y[rows], g, teacher_names, params, cv=k)
        a, b = platt_fit(raw, y[rows])
        return (1 - w) * y[rows] + w * _sigmoid(a * raw + b)

    folds = fold_ids(len(y), cv=cv, groups=grp, seed=booster.random_state)
    fold_targets = np.tile(y.astype(np.float64), (cv, 1))
    for k in range(cv):
        fold_targets[k, folds != k] = blended(folds != k)
    return blended(np.ones(len(y), bool)), fold_targets, float(w)
