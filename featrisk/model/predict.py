"""Prediction with a fitted RiskModel: its design table, raw and calibrated scores, flags.

The methods of :class:`PredictMixin` read the attributes :meth:`featrisk.RiskModel.fit` (or
:func:`featrisk.load`) sets: ``booster_``, ``feature_names_``, ``extra_columns_``,
``file_fill_``, ``calibration_``, ``stack_``, ``hybrid_``, ``threshold_``, ``oof_risk_``,
``oof_error_`` and ``atypicality_``. The risk of an image is ``sigmoid(a * raw + b +
offset)``: the booster's raw score, Platt's ``(a, b) = calibration_`` and the calibration
stack's term (:func:`featrisk.model.calibration.offset`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk._logistic import _sigmoid
from featrisk.degradation import DegradationEstimator
from featrisk.errors import NotFittedError, SchemaError
from featrisk.model import calibration
from featrisk.model.atypical import atypicality_of
from featrisk.model.design import (
    degradation_estimator,
    design_matrix,
    fill_file_facts,
    with_degradation,
)
from featrisk.schema import FEATURE_COLUMNS

__all__ = ["PredictMixin"]


class PredictMixin:
    """The prediction methods of :class:`featrisk.RiskModel`.

    They read its parameters ``profile``, ``degradation`` and ``threshold`` and the fitted
    attributes named in this module's docstring.
    """

    def _estimator(self) -> DegradationEstimator | None:
        """The degradation estimator whose outputs the model reads (None without one)."""
        return degradation_estimator(self.degradation, self.profile)

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise NotFittedError(
                "this RiskModel is not fitted yet; call fit(X, correct) or featrisk.load(path)"
            )

    def _matrix(self, X: Any, extra: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
        self._check_fitted()
        base = tuple(f for f in self.feature_names_ if f not in self.extra_columns_)
        table = design_matrix(X, extra, required=base, profile=self.profile)
        table = with_degradation(fill_file_facts(table, self.file_fill_), self._estimator())
        stacked = [] if self.hybrid_ is None else list(self.hybrid_["columns"])
        missing = [f for f in [*self.feature_names_, *stacked] if f not in table.columns]
        if missing:
            hint = (" (pass them with extra=)"
                    if set(missing) <= {*self.extra_columns_, *stacked} else "")
            raise SchemaError(f"the model needs column(s) {', '.join(missing)}{hint}")
        return table, table[self.feature_names_].to_numpy(np.float64)

    def inputs(self, X: Any, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """The table the model reads: path, error, features, extra and derived columns."""
        return self._matrix(X, extra)[0]

    def raw_risk(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """The booster's raw log-odds that each image is misclassified (before calibration).

        What :meth:`explain`'s contributions sum to; NaN for unreadable images.
        """
        table, x = self._matrix(X, extra)
        return self._raw(table, x)

    def decision_function(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """scikit-learn's score for ``classes_[1]`` (correct): minus :meth:`raw_risk`.

        Higher means more likely right, as scorers such as ``"roc_auc"`` expect of a binary
        classifier; NaN for unreadable images.
        """
        return -self.raw_risk(X, extra=extra)

    def _raw(self, table: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        raw = np.full(len(table), np.nan)
        ok = table["error"].isna().to_numpy()
        if ok.any():
            raw[ok] = self.booster_.predict(x[ok], raw_score=True)
        return raw

    def _offset(self, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        return calibration.offset(x, table, self.feature_names_, self.stack_, self.hybrid_)

    def _logit(self, raw: np.ndarray, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        a, b = self.calibration_
        return a * raw + b + self._offset(x, table)

    def _calibrate(self, raw: np.ndarray, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        return _sigmoid(self._logit(raw, x, table))

    def calibration_offset(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Log-odds the calibration adds per image beyond Platt's ``a * raw + b``.

        The degradation stack's term (``calibration="stack"``), or the hybrid stack's
        weighted signals (``hybrid="stack"``, probabilities as log-odds); 0 under plain
        Platt scaling. The calibrated risk is ``sigmoid(a * raw_risk + b +
        calibration_offset)`` with ``(a, b) = calibration_``; NaN for unreadable images.
        """
        table, x = self._matrix(X, extra)
        out = self._offset(x, table)
        out[~table["error"].isna().to_numpy()] = np.nan
        return out

    def predict_risk(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Calibrated probability (0-1) that the classifier gets each image wrong; NaN if unreadable."""
        table, x = self._matrix(X, extra)
        return self._calibrate(self._raw(table, x), x, table)

    def predict_proba(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Probabilities of the classes ``classes_ = [False, True]`` of ``y`` (was the
        classifier right?): column 0 is the risk P(misclassified), column 1 P(correct)."""
        risk = self.predict_risk(X, extra=extra)
        return np.column_stack([risk, 1.0 - risk])

    def predict(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted ``y``: True where the classifier is expected right (risk below
        ``threshold``), False where flagged; unreadable images are flagged."""
        risk = self.predict_risk(X, extra=extra)
        return ~(np.isnan(risk) | (risk >= self.threshold_))

    @property
    def classes_(self) -> np.ndarray:
        """Values of ``y`` in :meth:`predict_proba`'s column order: ``[False, True]``."""
        self._check_fitted()
        return np.array([False, True])

    def atypicality(self, X: Any) -> np.ndarray:
        """How unusual each image's statistics are next to typical, correctly classified images.

        A percentile in [0, 1] (see :mod:`featrisk.atypicality`): 0.5 is typical, 0.99 more
        unusual than 99% of the reference images (the training images the classifier got
        right and, for degradation-aware models, the estimator takes for clean). Needs no
        classifier output; high values point at damage the risk model may never have seen.
        NaN for unreadable images, and for models saved before featrisk stored the reference.
        """
        self._check_fitted()
        base = [f for f in self.feature_names_ if f in FEATURE_COLUMNS]
        table = design_matrix(X, None, required=base, profile=self.profile)
        return atypicality_of(getattr(self, "atypicality_", None), table)

    def _check_atypicality(self) -> None:
        if getattr(self, "atypicality_", None) is None:
            raise ValueError("this model stores no atypicality reference (saved by an older "
                             "featrisk, fitted with features=[], or fitted on too few correct "
                             "images); re-fit it")

    def threshold_for(self, *, flag_rate: float | None = None,
                      target_accuracy: float | None = None) -> float:
        """Risk threshold (flag when risk >= it) for a flag budget or a target accuracy.

        Chosen on the out-of-fold predictions kept from training.

        Parameters
        ----------
        flag_rate : float in (0, 1), optional
            Share of images to flag.
        target_accuracy : float in (0, 1], optional
            Accuracy the classifier should reach on the images not flagged.
        """
        self._check_fitted()
        return metrics.threshold_for(self.oof_risk_, self.oof_error_, flag_rate=flag_rate,
                                     target_accuracy=target_accuracy)
