"""RiskModel: a calibrated LightGBM model of P(misclassified) from image features.

Training (``fit``)
------------------
1. Features come from :func:`featrisk.extract` (or a table it returned), optionally joined
   with ``extra`` columns (for example :func:`featrisk.softmax_features`) and the degradation
   estimator's outputs (:mod:`featrisk.model.design`). Rows whose image could not be read
   are left out, with a warning naming how many.
2. K-fold cross-fitting (grouped when ``groups`` is given, so all variants of one source image
   stay on one side) gives out-of-fold (OOF) raw scores that no booster saw, and the number
   of rounds that generalises; the final booster trains on all rows
   (:mod:`featrisk.model.booster`). With ``denoise`` > 0 the boosters learn soft targets
   instead of the 0/1 outcomes (:mod:`featrisk.model.denoise`).
3. Calibration: a logistic fit of the outcome on the OOF raw log-odds: Platt scaling, or on
   request a degradation-aware stack (:mod:`featrisk.model.calibration`), or the hybrid
   stack with the classifier's signals (:mod:`featrisk.model.hybrid`).
4. The OOF calibrated risks and outcomes are kept to choose thresholds by flag budget or by
   target accuracy of the accepted images (:mod:`featrisk.model.thresholds`); the training
   quantiles and mean TreeSHAP contributions to explain (:mod:`featrisk.model.explain`);
   the typical images' features to score atypicality (:mod:`featrisk.model.atypical`).

Softmax columns in ``extra`` (see :data:`MONOTONE`) get monotone constraints so that a more
confident classifier never raises the risk. With ``hybrid="stack"`` they stay out of the
booster instead, with any ``signal_*`` columns (:mod:`featrisk.signals`).

This module composes those parts; :mod:`featrisk.persist` saves and loads the result.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from featrisk import modelfile
from featrisk._logistic import logistic_fit, platt_fit
from featrisk.folds import fold_ids
from featrisk.model.booster import MONOTONE, BoosterSettings
from featrisk.model.calibration import STACK_SEVERITY, stack_inputs, stack_terms
from featrisk.model.design import (
    design_matrix,
    file_fill_values,
    fill_file_facts,
    outcomes_from,
    with_degradation,
)
from featrisk.model.explain import QUANTILES, ExplainMixin
from featrisk.model.table import risk_table
from featrisk.model.thresholds import MAX_OOF_ROWS
from featrisk.model.training import train
from featrisk.profiles import get_profile
from featrisk.schema import FEATURE_COLUMNS

__all__ = [
    "MAX_OOF_ROWS",
    "MONOTONE",
    "QUANTILES",
    "STACK_SEVERITY",
    "RiskModel",
    "design_matrix",
    "file_fill_values",
    "fill_file_facts",
    "outcomes_from",
    "risk_table",
    "stack_inputs",
    "stack_terms",
    # defined elsewhere, importable from here as before the package split
    "fold_ids",
    "logistic_fit",
    "platt_fit",
]


class RiskModel(ExplainMixin, ClassifierMixin, BaseEstimator):
    """Calibrated LightGBM model of the probability that a classifier gets an image wrong.

    A scikit-learn estimator: ``get_params``/``set_params`` and ``clone`` work, and it fits in
    a ``Pipeline`` behind :class:`featrisk.FeatureExtractor` and in ``cross_val_predict``.
    ``y`` is whether the classifier was right, so ``classes_`` is ``[False, True]`` and
    ``predict_proba(X)[:, 0]`` is the risk (:meth:`predict_risk`).

    Parameters
    ----------
    n_estimators : int, default 2000
        Upper bound on boosting rounds; early stopping chooses the number used.
    learning_rate : float, default 0.03
    num_leaves : int, default 7
    min_child_samples : int, default 50
        Small, strongly regularised trees (with feature_fraction 0.5 and lambda_l2 10): the
        outcomes are noisy labels, and these settings measured best on the benchmark's
        grouped development folds.
    cv : int, default 5
        Folds for cross-fitting (out-of-fold predictions, early stopping, calibration).
    early_stopping_rounds : int, default 100
    threshold : float, default 0.5
        Default risk threshold of :meth:`predict` (flag when risk >= threshold: the image is
        more likely wrong than right). Use :meth:`threshold_for` for other operating points.
    random_state : int, default 0
    n_jobs : int, default 1
        LightGBM threads. One thread is the default, from measurements on this project's
        2-core machine (direct model, whole fit with its 5-fold early stopping): on 7,500
        ImageNet rows 3.30 s with one thread against 2.14 s with two on a quiet machine, but
        3.52 s against 6.83 s while another process kept one core busy; on 16,000 CIFAR rows
        12.1 s against 9.2 s quiet and 13.5 s against 26.4 s busy. Two threads save a quarter
        to a third on an idle machine and double the time on a shared one.
    params : dict, optional
        Further LightGBM parameters, passed as given.
    features : list of str, optional
        Feature columns to use (default: all of :data:`featrisk.FEATURE_COLUMNS`). An empty
        list fits on the ``extra`` columns and the degradation estimator's outputs alone;
        such a model has no atypicality reference.
    degradation : {"default", None}, default "default"
        ``"default"`` adds the outputs of the package's degradation estimator
        (:mod:`featrisk.degradation`: per-family probabilities and a severity estimate,
        learned without any classifier) as inputs; ``None`` fits on the features alone.
        Columns already given in ``extra`` under the same names are used as given.
    profile : {"default", "fast"}, default "default"
        The extraction profile (:mod:`featrisk.profiles`) of the features the model reads:
        paths are extracted with it, tables must have been, and it picks the degradation
        estimator fitted on that profile's features.
    hybrid : {"lightgbm", "stack"}, default "lightgbm"
        How the classifier's own signals in ``extra`` enter: ``softmax_*`` columns
        (:func:`featrisk.softmax_features`) and ``signal_*`` columns (:mod:`featrisk.signals`:
        logit scores, Monte Carlo dropout, embedding distances, the confusion matrix).
        ``"lightgbm"``: as booster inputs beside the image features. ``"stack"``: the booster
        sees the image alone (its TreeSHAP contributions stay image-only); the risk is a
        logistic regression of its Platt log-odds and the signals that raise the out-of-fold
        AUROC, chosen one at a time on the cross-fitting folds (:mod:`featrisk.stack`);
        ``hybrid_`` names them and their weights. Signals from scorers fitted on data
        (embeddings, confusion) must be computed out of fold for the training images. Not
        combinable with ``calibration="stack"``; BENCHMARKS.md compares both modes.
    calibration : {"platt", "stack"}, default "platt"
        How out-of-fold booster scores become probabilities. ``"platt"``: sigmoid(a * raw +
        b). ``"stack"`` (needs the degradation estimator's outputs among the inputs): a ridge
        logistic stack of the raw score and, per degradation family, p, p * severity and
        p * severity^2, a smooth map from "what is wrong and how badly" to error rate. It
        ranks known kinds of damage a little better and never-seen kinds much worse
        (``featrisk bench run`` with it as default, feature schema 2: cross-validated AUROC
        0.777 against 0.772 on ImageNet, but mean AUROC on held-out degradation families 0.623
        against 0.698), so it is an option for data whose damage the training set covers.
    denoise : float in [0, 1), default 0.0
        Weight of a teacher in the booster's training targets. The outcomes are noisy labels
        (the same damage that one photo survives breaks another); the teacher is a model of
        the same outcomes on the few columns beside the image features (the degradation
        estimator's outputs and any ``extra`` columns), fitted out of fold, and the booster
        learns ``(1 - denoise) * outcome + denoise * teacher risk`` with LightGBM's
        cross-entropy objective. Calibration, thresholds and the reported out-of-fold scores
        are always fitted against the outcomes themselves. 0 learns from the outcomes alone,
        as does a model with no columns beside the image features (``degradation=None``
        without ``extra``); ``training_summary_["denoise"]`` records the weight used. With
        ``features=[]`` the teacher reads the booster's own columns (its own out-of-fold
        risk smooths the targets). ``featrisk bench run`` measures ``denoise=0.5`` against
        the default on the same folds (BENCHMARKS.md, ``featrisk_denoised``): a small gain on
        the ImageNet outcome set (+0.016 with ``profile="fast"``, whose raw columns are
        noisier), none on CIFAR-10, and on the 1,450-image demo set a loss (grouped 5-fold
        AUROC 0.831 against 0.840; 0.804 against 0.805 on fast features), so it is not the
        default.
    """

    def __init__(self, *, n_estimators: int = 2000, learning_rate: float = 0.03,
                 num_leaves: int = 7, min_child_samples: int = 50, cv: int = 5,
                 early_stopping_rounds: int = 100, threshold: float = 0.5,
                 random_state: int = 0, n_jobs: int = 1,
                 params: dict[str, Any] | None = None,
                 features: list[str] | None = None,
                 degradation: str | None = "default", calibration: str = "platt",
                 profile: str = "default", hybrid: str = "lightgbm",
                 denoise: float = 0.0) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.cv = cv
        self.early_stopping_rounds = early_stopping_rounds
        self.threshold = threshold
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.params = params
        self.features = features
        self.degradation = degradation
        self.calibration = calibration
        self.profile = profile
        self.hybrid = hybrid
        self.denoise = denoise

    # -- training -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, correct: Any = None, y_true: Any = None,
            y_pred: Any = None, extra: pd.DataFrame | None = None,
            groups: Any = None) -> RiskModel:
        """Fit on a classifier's validation outcomes.

        Parameters
        ----------
        X : list of paths or DataFrame
            Image paths, or the table :func:`featrisk.extract` returned for them.
        y : array-like of bool
            True where the classifier was right (scikit-learn's ``y``; ``correct=`` is the
            same argument by name). Or give ``y_true`` and ``y_pred``.
        extra : DataFrame, optional
            More numeric per-image columns (e.g. :func:`featrisk.softmax_features`), joined
            on a ``path`` column when both have one, else by row order.
        groups : array-like, optional
            Group label per image (e.g. the source photo of degraded variants); folds never
            split a group.

        Returns
        -------
        RiskModel
            ``self``, fitted.
        """
        if y is not None and correct is not None:
            raise ValueError("y and correct are the same argument (True where the classifier "
                             "was right); pass one of them")
        start = time.perf_counter()
        base = tuple(self.features) if self.features is not None else FEATURE_COLUMNS
        unknown = [f for f in base if f not in FEATURE_COLUMNS]
        if unknown:
            raise ValueError(f"features holds unknown column(s): {', '.join(unknown)}")
        get_profile(self.profile)
        table = design_matrix(X, extra, required=base, profile=self.profile)
        self.file_fill_ = file_fill_values(table)
        table = with_degradation(fill_file_facts(table, self.file_fill_), self._estimator())
        error = outcomes_from(y if y is not None else correct, y_true=y_true, y_pred=y_pred)
        extra_names = [c for c in (extra.columns if extra is not None else []) if c != "path"]
        derived = [c for c in self._degradation_columns() if c not in extra_names]
        fitted = train(table, error, groups, base=base, extra_names=extra_names, derived=derived,
                       booster=BoosterSettings.of(self), calibration=self.calibration,
                       hybrid=self.hybrid, denoise=self.denoise)
        for name, value in fitted.items():
            setattr(self, name, value)
        self.training_summary_["fit_seconds"] = round(time.perf_counter() - start, 3)
        self.threshold_ = float(self.threshold)
        return self

    def _degradation_columns(self) -> list[str]:
        est = self._estimator()
        return [] if est is None else est.columns

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # image paths, or the feature table
        return tags

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to one JSON text file, atomically (:func:`featrisk.save`).

        Returns
        -------
        Path
            The path written.
        """
        return modelfile.save(self, path)

    def __repr__(self) -> str:
        state = (f"fitted on {self.training_summary_['n_images']} images"
                 if hasattr(self, "booster_") else "not fitted")
        return f"RiskModel({state})"
