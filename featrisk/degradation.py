"""Degradation estimator: what went wrong with an image, learned without any classifier.

A classifier's validation outcomes are noisy labels: the same blur that one photo survives
breaks another. The degradations themselves are known for free on synthetic data. This
estimator reads the feature vector and estimates, for every family of
:mod:`featrisk.degrade` (and ``none``), the probability that the image carries it, plus the
severity on a continuous 0-5 scale. Fed to the risk model as extra inputs (the
``degradation_*`` columns), these few, denoised inputs let the classifier-specific part
learn from far fewer outcomes.

It is trained on degraded copies of photos with their known degradation and severity, never
on a classifier's outcomes. The estimator shipped in the package
(``featrisk/models/degradation.json``, LightGBM text plus a JSON manifest) was trained by
``featrisk bench train-degradation`` on the ImageNet dev photos and CIFAR-10 test images of
the benchmark outcome sets, on the ImageNet photos carrying two damages at once
(:mod:`featrisk.bench.composed_set`), and on degraded crops of five scikit-image photos the
demo does not use (:mod:`featrisk.bench.skimage_set`); its manifest records the data and the
feature schema.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd

from featrisk._atomic import atomic_write
from featrisk.errors import ModelFileError, NotFittedError, SchemaError
from featrisk.folds import fold_ids
from featrisk.profiles import get_profile, profile_of
from featrisk.schema import FEATURE_COLUMNS, SCHEMA_VERSION, check_feature_table

__all__ = ["DegradationEstimator", "LabelledRows", "cross_fit_transform", "default_estimator",
           "fit_estimator"]

FORMAT = "featrisk-degradation"
SEVERITY_COLUMN = "degradation_severity"


#: Lines of a LightGBM text tree that prediction does not read (``tree_sizes`` indexes the
#: full trees, so it goes too; without it LightGBM parses the trees in order).
_TRAINING_ONLY = ("split_gain=", "internal_value=", "internal_weight=", "internal_count=",
                  "leaf_weight=", "leaf_count=", "tree_sizes=")


def _prediction_text(booster: lgb.Booster) -> str:
    """The booster's text model without the lines prediction does not read."""
    lines = booster.model_to_string().split("\n")
    return "\n".join(line for line in lines if not line.startswith(_TRAINING_ONLY))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DegradationEstimator:
    """Estimate degradation family probabilities and severity from image features.

    Parameters
    ----------
    n_estimators : int, default 120
        Boosting rounds of the family classifier and of the severity regressor.
    learning_rate : float, default 0.1
    num_leaves : int, default 15
    random_state : int, default 0
    n_jobs : int, default 1
        LightGBM threads.
    """

    def __init__(self, *, n_estimators: int = 120, learning_rate: float = 0.1,
                 num_leaves: int = 15, random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_data_in_leaf": 20, "feature_fraction": 0.8, "bagging_fraction": 0.8,
                "bagging_freq": 1, "num_threads": self.n_jobs, "seed": self.random_state,
                "deterministic": True, "force_col_wise": True, "verbose": -1}

    def fit(self, X: pd.DataFrame, degradation: Any, severity: Any, *,
            sample_weight: Any = None) -> DegradationEstimator:
        """Fit on features of images whose degradation (``"none"`` if clean) and severity are known.

        Parameters
        ----------
        X : DataFrame
            Table from :func:`featrisk.extract` (rows with an ``error`` are rejected).
        degradation : array-like of str
            Family per image, ``"none"`` for clean images.
        severity : array-like of float
            Severity per image, 0 for clean, 1-5 for degraded.
        sample_weight : array-like of float, optional
            Weight per row. An image carrying several damages enters as one row per damage,
            weighted by its share, so the family probabilities learn the mixture
            (:func:`featrisk.bench.composed_set.estimator_rows`).
        """
        check_feature_table(X, what="X")
        self.profile_ = profile_of(X)
        deg = np.asarray(degradation).astype(str)
        sev = np.asarray(severity, dtype=np.float64)
        weight = (np.ones(len(deg)) if sample_weight is None
                  else np.asarray(sample_weight, dtype=np.float64))
        if not (len(deg) == len(sev) == len(weight) == len(X)):
            raise ValueError(f"X, degradation, severity and sample_weight differ in length: "
                             f"{len(X)}, {len(deg)}, {len(sev)}, {len(weight)}")
        if not (np.isfinite(weight).all() and (weight >= 0).all() and weight.sum() > 0):
            raise ValueError("sample_weight must be finite, >= 0 and not all 0")
        if "error" in X.columns and X["error"].notna().any():
            raise ValueError("X holds unreadable images (non-empty 'error'); drop them first")
        self.classes_ = sorted(set(deg.tolist()))
        if len(self.classes_) < 2:
            raise ValueError(f"need at least two degradation classes, got {self.classes_}")
        y = np.searchsorted(np.array(self.classes_), deg)
        x = X[list(FEATURE_COLUMNS)].to_numpy(np.float64)
        names = list(FEATURE_COLUMNS)
        self.classifier_ = lgb.train(
            {**self._params(), "objective": "multiclass", "num_class": len(self.classes_)},
            lgb.Dataset(x, y, weight=weight, feature_name=names),
            num_boost_round=self.n_estimators)
        self.regressor_ = lgb.train({**self._params(), "objective": "regression"},
                                    lgb.Dataset(x, sev, weight=weight, feature_name=names),
                                    num_boost_round=self.n_estimators)
        self.training_summary_ = {
            "n_rows": int(len(deg)), "total_weight": round(float(weight.sum()), 3),
            "counts": {c: round(float(weight[deg == c].sum()), 3) for c in self.classes_}}
        return self

    @property
    def columns(self) -> list[str]:
        """Output column names: ``degradation_p_<family>`` per class, then the severity."""
        self._check_fitted()
        return [f"degradation_p_{c}" for c in self.classes_] + [SEVERITY_COLUMN]

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            raise NotFittedError("this DegradationEstimator is not fitted; call fit or load it")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Family probabilities (sum to 1) and severity (about 0-5) per image; NaN if unreadable."""
        self._check_fitted()
        check_feature_table(X, what="X")
        if profile_of(X) != self.profile_:
            raise SchemaError(f"X was extracted with profile {profile_of(X)!r}, this estimator "
                              f"was fitted on profile {self.profile_!r}")
        out = np.full((len(X), len(self.classes_) + 1), np.nan)
        ok = X["error"].isna().to_numpy() if "error" in X.columns else np.ones(len(X), bool)
        if ok.any():
            x = X.loc[ok, list(FEATURE_COLUMNS)].to_numpy(np.float64)
            out[ok, :-1] = self.classifier_.predict(x)
            out[ok, -1] = self.regressor_.predict(x)
        return pd.DataFrame(out, columns=self.columns, index=X.index)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the estimator as one JSON text file (LightGBM text models inside), atomically.

        The trees keep what prediction reads (splits, thresholds, leaf values) and drop the
        training statistics (gains, counts, internal values) that only TreeSHAP and
        refitting use: the estimator is never explained, and the file is about half the size.
        """
        self._check_fitted()
        clf, reg = _prediction_text(self.classifier_), _prediction_text(self.regressor_)
        doc = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "profile": self.profile_,
               "classes": self.classes_,
               "training_summary": self.training_summary_,
               "sha256": _digest(clf + reg), "classifier": clf, "regressor": reg}
        target = Path(path)
        atomic_write(target, lambda fh: json.dump(doc, codecs.getwriter("utf-8")(fh)))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DegradationEstimator:
        """Read an estimator written by :meth:`save`; never unpickles anything."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path}: not a readable degradation estimator ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ModelFileError(f"{path}: not a featrisk degradation estimator")
        if _digest(doc["classifier"] + doc["regressor"]) != doc.get("sha256"):
            raise ModelFileError(f"{path}: checksum mismatch: the estimator was altered or truncated")
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise SchemaError(f"{path}: estimator uses feature schema {doc.get('schema_version')}, "
                              f"this featrisk computes schema {SCHEMA_VERSION}")
        est = cls()
        est.classes_ = list(doc["classes"])
        est.classifier_ = lgb.Booster(model_str=doc["classifier"])
        est.regressor_ = lgb.Booster(model_str=doc["regressor"])
        est.training_summary_ = doc.get("training_summary", {})
        est.sha256_ = doc["sha256"]
        est.profile_ = str(doc.get("profile", "default"))
        return est


def estimator_file(profile: str = "default") -> str:
    """File name of the estimator shipped for ``profile``: ``degradation[_<profile>].json``."""
    return f"degradation{get_profile(profile).suffix}.json"


def default_estimator_path(profile: str = "default") -> Path:
    """Path of the estimator shipped in the package for ``profile``."""
    return Path(str(resources.files("featrisk") / "models" / estimator_file(profile)))


_DEFAULT: dict[str, DegradationEstimator] = {}


def default_estimator(profile: str = "default") -> DegradationEstimator:
    """The shipped estimator for ``profile`` (loaded once per process)."""
    if profile not in _DEFAULT:
        path = default_estimator_path(profile)
        if not path.is_file():
            raise ModelFileError(f"{path}: this featrisk ships no degradation estimator for "
                                 f"profile {profile!r}")
        est = DegradationEstimator.load(path)
        if est.profile_ != profile:
            raise ModelFileError(f"{path}: estimator was fitted on profile {est.profile_!r}, "
                                 f"not {profile!r}")
        _DEFAULT[profile] = est
    return _DEFAULT[profile]


class LabelledRows(NamedTuple):
    """Extra estimator training rows: features, family, severity, weight and source per row."""

    features: pd.DataFrame
    degradation: np.ndarray
    severity: np.ndarray
    weight: np.ndarray
    groups: np.ndarray

    def without(self, groups: Any) -> LabelledRows:
        """The rows whose source is not among ``groups``."""
        keep = ~np.isin(self.groups, np.asarray(groups))
        return LabelledRows(self.features[keep], self.degradation[keep], self.severity[keep],
                            self.weight[keep], self.groups[keep])


def fit_estimator(X: pd.DataFrame, degradation: Any, severity: Any, *,
                  also: LabelledRows | None = None, **params: Any) -> DegradationEstimator:
    """An estimator fitted on ``X`` (weight 1 per image) and the rows of ``also``."""
    deg = np.asarray(degradation).astype(str)
    sev = np.asarray(severity, dtype=np.float64)
    if also is None or not len(also.degradation):
        return DegradationEstimator(**params).fit(X, deg, sev)
    table = pd.concat([X, also.features], ignore_index=True)
    table.attrs = dict(X.attrs)
    return DegradationEstimator(**params).fit(
        table, np.concatenate([deg, also.degradation.astype(str)]),
        np.concatenate([sev, also.severity]),
        sample_weight=np.concatenate([np.ones(len(deg)), also.weight]))


def cross_fit_transform(X: pd.DataFrame, degradation: Any, severity: Any, *, groups: Any,
                        cv: int = 3, seed: int = 0, also: LabelledRows | None = None,
                        **params: Any) -> pd.DataFrame:
    """Out-of-fold estimator outputs for images whose degradations are known.

    Each image's outputs come from an estimator fitted on the other folds (grouped, so no
    variant of the same source photo is seen), matching what an estimator trained elsewhere
    outputs on new images. Use it to feed training rows to the risk model. Rows of ``also``
    (for example composed damage, :mod:`featrisk.bench.composed_set`) join every fold's
    training except the folds holding their source.
    """
    deg = np.asarray(degradation).astype(str)
    sev = np.asarray(severity, dtype=np.float64)
    grp = np.asarray(groups)
    folds = fold_ids(len(X), cv=cv, groups=grp, seed=seed)
    parts = []
    for k in range(cv):
        test = folds == k
        extra = None if also is None else also.without(grp[test])
        est = fit_estimator(X[~test], deg[~test], sev[~test], also=extra, **params)
        parts.append(est.transform(X[test]))
    full = pd.concat(parts).reindex(X.index)
    return full.fillna(0.0) if full.columns.size else full
