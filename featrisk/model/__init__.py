"""RiskModel: a calibrated LightGBM model of P(misclassified) from image features.

Training (``fit``)
------------------
1. Features come from :func:`featrisk.extract` (or a table it returned), optionally joined
   with ``extra`` columns (for example :func:`featrisk.softmax_features`). Rows whose image
   could not be read are left out, with a warning naming how many.
2. K-fold cross-fitting (grouped when ``groups`` is given, so all variants of one source image
   stay on one side): for fold k, a booster trains on the other folds with early stopping
   (binary log-loss) on fold k+1 and predicts fold k. This gives out-of-fold (OOF) raw scores
   that no booster saw, and the number of rounds that generalises.
   With ``denoise`` > 0 the boosters learn soft targets instead of the 0/1 outcomes:
   ``(1 - denoise) * outcome + denoise * teacher``, where the teacher is the same kind of
   booster on the columns beside the image features (the degradation estimator's outputs,
   ``extra`` columns), cross-fitted itself; fold k's targets come from a teacher fitted
   without fold k, so the out-of-fold scores never rest on fold k's outcomes.
3. The final booster trains on all rows for the mean best round count x 1.1.
4. Calibration: a logistic fit of the outcome on the OOF raw log-odds: Platt scaling (two
   parameters), or on request (``calibration="stack"``) a ridge logistic stack that adds, per
   degradation family, the estimator's p, p x severity and p x severity^2
   (:func:`stack_terms`). No class
   reweighting is used: reweighting distorts probabilities, and the calibrated probability
   is what thresholds and reports read.
5. The OOF calibrated risks and outcomes are kept to choose thresholds by flag budget or by
   target accuracy of the accepted images.

Softmax columns in ``extra`` (see :data:`MONOTONE`) get monotone constraints so that a more
confident classifier never raises the risk. With ``hybrid="stack"`` they stay out of the
booster instead, with any ``signal_*`` columns (:mod:`featrisk.signals`): the booster learns
from the image alone, and a logistic stack of its calibrated out-of-fold log-odds and the
signals that raise the out-of-fold AUROC (:mod:`featrisk.stack`) gives the risk (step 4).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from featrisk import metrics, stack, wording
from featrisk._logistic import _sigmoid, logistic_fit, platt_fit
from featrisk.atypicality import MIN_IMAGES as ATYP_MIN_IMAGES
from featrisk.atypicality import Atypicality
from featrisk.errors import NotFittedError, SchemaError
from featrisk.extract import extract
from featrisk.folds import fold_ids
from featrisk.profiles import get_profile, profile_of
from featrisk.schema import FEATURE_COLUMNS, FILE_COLUMNS, check_feature_table

__all__ = ["MONOTONE", "RiskModel", "design_matrix", "outcomes_from"]

#: Monotone constraints for known extra columns: +1 risk rises with the value, -1 falls.
MONOTONE = {
    "softmax_max_prob": -1,
    "softmax_margin": -1,
    "softmax_entropy": 1,
    "softmax_gini": 1,
}

#: Quantiles of the training features kept to describe values in words ("very low", ...,
#: and which side of usual a reason's value lies on, :mod:`featrisk.wording`).
QUANTILES = (0.05, 0.25, 0.75, 0.95)

#: Most out-of-fold rows kept in a model (a seeded subsample beyond this).
MAX_OOF_ROWS = 200_000


#: Severity range (``featrisk.degrade`` levels) the calibration stack clips estimates to.
STACK_SEVERITY = (0.0, 5.0)


def stack_terms(p: np.ndarray, severity: np.ndarray) -> np.ndarray:
    """Terms of the degradation-aware calibration: p_f, p_f * s and p_f * s^2 per family.

    Parameters
    ----------
    p : ndarray, shape (n, families)
        The degradation estimator's family probabilities (0-1).
    severity : ndarray, shape (n,)
        Its severity estimate, clipped to 0-5.

    Returns
    -------
    ndarray, shape (n, 3 * families)
    """
    s = np.clip(severity, *STACK_SEVERITY)[:, None]
    return np.column_stack([p, p * s, p * s * s])


def stack_inputs(names: list[str]) -> tuple[list[int], int] | None:
    """Indices of the estimator's family probabilities and severity among ``names``, or None."""
    p_idx = [i for i, f in enumerate(names) if f.startswith("degradation_p_")]
    if not p_idx or "degradation_severity" not in names:
        return None
    return p_idx, names.index("degradation_severity")


def outcomes_from(correct: Any = None, *, y_true: Any = None, y_pred: Any = None) -> np.ndarray:
    """Return 1 where the classifier was wrong, from ``correct`` or ``y_true``/``y_pred``."""
    if correct is not None and (y_true is not None or y_pred is not None):
        raise ValueError("pass either correct= or y_true=/y_pred=, not both")
    if correct is None:
        if y_true is None or y_pred is None:
            raise ValueError("pass correct= (bool per image) or both y_true= and y_pred=")
        yt, yp = np.asarray(y_true), np.asarray(y_pred)
        if yt.shape != yp.shape:
            raise ValueError(f"y_true has shape {yt.shape} but y_pred has {yp.shape}")
        return (yt != yp).astype(np.int8)
    c = np.asarray(correct)
    allowed = {True, False}  # 1 == True and 0 == False, so 1/0 pass too
    if c.dtype.kind not in "biu" and not (c.dtype == object and set(c.tolist()) <= allowed):
        raise ValueError(f"correct must be bool (True = classified right), got dtype {c.dtype}")
    if c.dtype.kind in "iu" and not np.isin(c, (0, 1)).all():
        raise ValueError("correct must hold only True/False (or 1/0)")
    return (~c.astype(bool)).astype(np.int8)


def _join_extra(features: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    if extra is None:
        return features
    if not isinstance(extra, pd.DataFrame):
        raise TypeError(f"extra must be a pandas DataFrame, got {type(extra).__name__}")
    cols = [c for c in extra.columns if c != "path"]
    clash = [c for c in cols if c in features.columns]
    if clash:
        raise ValueError(f"extra repeats feature columns: {', '.join(clash)}")
    if "path" in extra.columns and "path" in features.columns:
        lookup = extra.drop_duplicates("path").set_index("path")[cols]
        joined = lookup.reindex(features["path"].to_numpy())
        known = features["path"].isin(lookup.index).to_numpy()
        missing = features["path"][~known].tolist() if cols else []
        if missing:
            raise ValueError(f"extra has no row for {len(missing)} path(s), e.g. {missing[0]}")
        values = joined.reset_index(drop=True)
    else:
        if len(extra) != len(features):
            raise ValueError(
                f"extra has {len(extra)} rows but there are {len(features)} images; give it a "
                "'path' column to join on, or the same rows in the same order"
            )
        values = extra[cols].reset_index(drop=True)
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(values[c])]
    if bad:
        raise TypeError(f"extra columns must be numeric: {', '.join(bad)}")
    out = features.reset_index(drop=True).copy()
    for c in cols:
        out[c] = values[c].astype(np.float64).to_numpy()
    return out


def design_matrix(X: Any, extra: pd.DataFrame | None = None, *, n_jobs: int = 1,
                  progress: bool = False, required: tuple[str, ...] = FEATURE_COLUMNS,
                  profile: str = "default") -> pd.DataFrame:
    """Feature table for paths or an extracted table, joined with ``extra`` columns.

    Paths are extracted with ``profile``; a table must have been extracted with it (a table
    that does not record its profile is taken as ``"default"``).
    """
    if isinstance(X, pd.DataFrame):
        check_feature_table(X, required=required, what="X")
        if profile_of(X) != profile:
            raise SchemaError(
                f"X was extracted with profile {profile_of(X)!r}, the model reads profile "
                f"{profile!r}; extract the images with featrisk.extract(paths, "
                f"profile={profile!r})"
            )
        table = X.reset_index(drop=True)
        if "error" not in table.columns:
            table = table.assign(error=None)
        if "path" not in table.columns:
            table = table.assign(path=[f"row {i}" for i in range(len(table))])
    else:  # images: featrisk.inputs says which kinds, and raises for anything else
        table = extract(X, n_jobs=n_jobs, progress=progress, profile=profile)
    return _join_extra(table, extra)


class RiskModel(ClassifierMixin, BaseEstimator):
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
    def _lgb_params(self, feature_names: list[str]) -> dict[str, Any]:
        params = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.5,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 10.0,
            "num_threads": self.n_jobs,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }
        mono = [MONOTONE.get(f, 0) for f in feature_names]
        if any(mono):
            params["monotone_constraints"] = mono
        params.update(self.params or {})
        return params

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
        correct = y if y is not None else correct
        start = time.perf_counter()
        base = tuple(self.features) if self.features is not None else FEATURE_COLUMNS
        unknown = [f for f in base if f not in FEATURE_COLUMNS]
        if unknown:
            raise ValueError(f"features holds unknown column(s): {', '.join(unknown)}")
        get_profile(self.profile)
        table = design_matrix(X, extra, required=base, profile=self.profile)
        self.file_fill_ = file_fill_values(table)
        table = self._with_degradation(fill_file_facts(table, self.file_fill_))
        error = outcomes_from(correct, y_true=y_true, y_pred=y_pred)
        if len(error) != len(table):
            raise ValueError(f"correct has {len(error)} values but X has {len(table)} images")
        grp = None if groups is None else np.asarray(groups)
        if grp is not None and len(grp) != len(table):
            raise ValueError(f"groups has {len(grp)} values but X has {len(table)} images")
        ok = table["error"].isna().to_numpy()
        if not ok.all():
            warnings.warn(
                f"{(~ok).sum()} of {len(ok)} images could not be read and were left out of "
                f"training; first: {table.loc[~ok, 'error'].iloc[0]}", stacklevel=2,
            )
        extra_names = [c for c in (extra.columns if extra is not None else []) if c != "path"]
        derived = [c for c in self._degradation_columns() if c not in extra_names]
        feature_names = [*base, *extra_names, *derived]
        if self.calibration not in ("platt", "stack"):
            raise ValueError(f"calibration must be 'platt' or 'stack', got {self.calibration!r}")
        feature_names = self._booster_inputs(feature_names, extra_names)
        if self.calibration == "stack" and stack_inputs(feature_names) is None:
            raise ValueError("calibration='stack' needs the degradation estimator's outputs "
                             "(degradation_p_* and degradation_severity) among the inputs; "
                             "fit with degradation='default' or pass them in extra")
        x = table.loc[ok, feature_names].to_numpy(np.float64)
        y = error[ok]
        grp = None if grp is None else grp[ok]
        n_err = int(y.sum())
        if min(n_err, len(y) - n_err) < self.cv:
            raise ValueError(
                f"need at least cv={self.cv} correct and {self.cv} wrong images to fit; got "
                f"{len(y) - n_err} correct and {n_err} wrong"
            )
        target, fold_targets, used = self._denoised_targets(x, y, grp, feature_names, set(base))
        params = self._lgb_params(feature_names)
        if used:
            params["objective"] = "cross_entropy"
        oof_raw, rounds = self._cross_fit(x, y, grp, feature_names, params,
                                          fold_targets=fold_targets)
        self.n_estimators_ = max(1, int(round(np.mean(rounds) * 1.1)))
        data = lgb.Dataset(x, target, feature_name=feature_names, free_raw_data=True)
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators_)
        self.feature_names_ = feature_names
        self.extra_columns_ = [f for f in feature_names if f not in FEATURE_COLUMNS]
        self._fit_calibration(oof_raw, x, y, table.loc[ok], grp)
        self._set_oof(_sigmoid(self._logit(oof_raw, x, table.loc[ok])), y)
        self.feature_quantiles_ = {
            f: [float(v) for v in np.quantile(x[:, i], QUANTILES)]
            for i, f in enumerate(feature_names)
        }
        typical = y == 0
        if "degradation_p_none" in feature_names:  # right, and no known damage seen on it
            typical &= x[:, feature_names.index("degradation_p_none")] >= 0.5
            if typical.sum() < ATYP_MIN_IMAGES:
                typical = y == 0
        self.atypicality_ = _fit_atypicality(x[typical, : len(base)], list(base),
                                             wider=x[:, : len(base)])
        contrib = self.booster_.predict(x, pred_contrib=True)[:, :-1]
        self.mean_abs_contrib_ = dict(zip(feature_names, np.abs(contrib).mean(axis=0).tolist(),
                                          strict=True))
        self.training_summary_ = {
            "n_images": int(len(y)),
            "n_unreadable": int((~ok).sum()),
            "error_rate": float(y.mean()),
            "cv": self.cv,
            "grouped": grp is not None,
            "n_estimators": self.n_estimators_,
            "oof_auroc": metrics.auroc(y, self.oof_risk_),
            "oof_ece": metrics.ece(y, self.oof_risk_),
            "calibration": "platt" if self.stack_ is None else "stack",
            "hybrid": None if self.hybrid_ is None else "stack",
            "denoise": used,
            "fit_seconds": round(time.perf_counter() - start, 3),
        }
        self.threshold_ = float(self.threshold)
        return self

    def _denoised_targets(self, x: np.ndarray, y: np.ndarray, grp: np.ndarray | None,
                          names: list[str], image: set[str]
                          ) -> tuple[np.ndarray, np.ndarray | None, float]:
        """Training targets: the outcomes blended with an out-of-fold teacher's risk.

        The teacher is the same kind of booster on the columns of ``names`` that are not image
        features (``image``), cross-fitted and Platt-scaled against ``y``. Each cross-fitting
        fold k gets targets from a teacher fitted without fold k, so the out-of-fold scores
        (calibration, thresholds, ``training_summary_``) never rest on fold k's outcomes.

        Returns
        -------
        (target, fold_targets, weight)
            ``target``: ``(1 - weight) * y + weight * teacher`` over all rows, for the final
            booster; ``fold_targets[k]``: the same for the rows outside fold k, from a teacher
            that never saw fold k (None without a teacher); ``weight`` 0.0, with ``y`` itself,
            when ``denoise`` is 0 or there is no column to teach from.
        """
        w = self.denoise
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w < 1:
            raise ValueError(f"denoise must be a number in [0, 1), got {w!r}")
        cols = [i for i, f in enumerate(names) if f not in image]
        if w == 0 or not cols:
            return y.astype(np.float64), None, 0.0
        teacher_names = [names[i] for i in cols]
        params = self._lgb_params(teacher_names)

        def blended(rows: np.ndarray) -> np.ndarray:
            g = None if grp is None else grp[rows]
            cv = self.cv if g is None else min(self.cv, len(np.unique(g)))  # few groups left
            raw, _ = self._cross_fit(x[rows][:, cols], y[rows], g, teacher_names, params, cv=cv)
            a, b = platt_fit(raw, y[rows])
            return (1 - w) * y[rows] + w * _sigmoid(a * raw + b)

        folds = fold_ids(len(y), cv=self.cv, groups=grp, seed=self.random_state)
        fold_targets = np.tile(y.astype(np.float64), (self.cv, 1))
        for k in range(self.cv):
            fold_targets[k, folds != k] = blended(folds != k)
        return blended(np.ones(len(y), bool)), fold_targets, float(w)

    def _booster_inputs(self, names: list[str], extra_names: list[str]) -> list[str]:
        """The booster's inputs: all of ``names``, less the classifier signals under the stack."""
        if self.hybrid not in ("lightgbm", "stack"):
            raise ValueError(f"hybrid must be 'lightgbm' or 'stack', got {self.hybrid!r}")
        if self.hybrid == "lightgbm":
            return names
        if self.calibration == "stack":
            raise ValueError("hybrid='stack' and calibration='stack' cannot be combined; "
                             "choose one")
        if not any(stack.is_signal(c) for c in extra_names):
            raise ValueError("hybrid='stack' needs classifier signals in extra: softmax_* "
                             "(featrisk.softmax_features(probs)) or signal_* columns "
                             "(featrisk.signals); got "
                             f"{', '.join(extra_names) or 'no extra columns'}")
        return [f for f in names if not stack.is_signal(f)]

    def _fit_calibration(self, oof_raw: np.ndarray, x: np.ndarray, y: np.ndarray,
                         table: pd.DataFrame, grp: np.ndarray | None) -> None:
        """Platt scaling, then the hybrid stack; or the degradation stack (inputs checked
        at the start of :meth:`fit`; ``table`` holds the rows of ``x``)."""
        self.stack_: dict[str, Any] | None = None
        self.hybrid_: dict[str, Any] | None = None
        if self.calibration == "platt":
            a, b = self.calibration_ = platt_fit(oof_raw, y)
            if self.hybrid == "stack":
                names = [c for c in table.columns if stack.is_signal(c)]
                signals = stack.signal_values(table, names)
                bad = ~np.isfinite(signals).all(axis=0)
                if bad.any():
                    raise ValueError(f"{', '.join(np.array(names)[bad])} missing or not finite "
                                     "for some readable training images; hybrid='stack' "
                                     "needs every signal for every image")
                folds = fold_ids(len(y), cv=self.cv, groups=grp, seed=self.random_state)
                chosen, coef, c = stack.fit(np.column_stack([a * oof_raw + b, signals]), y,
                                            folds, keep=[0])
                self.calibration_ = (float(coef[0] * a), float(coef[0] * b + c))
                self.hybrid_ = {"columns": [names[j - 1] for j in chosen[1:]],
                                "coef": [float(w) for w in coef[1:]]}
            return
        p_idx, s_idx = stack_inputs(self.feature_names_)
        terms = stack_terms(x[:, p_idx], x[:, s_idx])
        coef, intercept = logistic_fit(np.column_stack([oof_raw, terms]), y)
        self.calibration_ = (float(coef[0]), intercept)
        self.stack_ = {"p_columns": [self.feature_names_[i] for i in p_idx],
                       "severity_column": self.feature_names_[s_idx],
                       "coef": [float(c) for c in coef[1:]]}

    def _stack_offset(self, x: np.ndarray) -> np.ndarray:
        """Per-image log-odds the calibration stack adds for the estimated degradation."""
        fitted = self.stack_
        if fitted is None:
            return np.zeros(len(x))
        names = self.feature_names_
        p = x[:, [names.index(c) for c in fitted["p_columns"]]]
        terms = stack_terms(p, x[:, names.index(fitted["severity_column"])])
        return terms @ np.asarray(fitted["coef"], dtype=np.float64)

    def _offset(self, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        """Log-odds added to ``a * raw + b``: the degradation stack's or the hybrid's term."""
        if self.hybrid_ is None:
            return self._stack_offset(x)
        if not self.hybrid_["columns"]:
            return np.zeros(len(table))
        return stack.signal_values(table, self.hybrid_["columns"]) @ np.asarray(
            self.hybrid_["coef"], np.float64)

    def _logit(self, raw: np.ndarray, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        a, b = self.calibration_
        return a * raw + b + self._offset(x, table)

    def _cross_fit(self, x: np.ndarray, y: np.ndarray, grp: np.ndarray | None,
                   names: list[str], params: dict[str, Any], *,
                   fold_targets: np.ndarray | None = None,
                   cv: int | None = None) -> tuple[np.ndarray, list[int]]:
        """Out-of-fold raw scores and best round counts over ``cv`` folds (default
        ``self.cv``); fold k's boosters train (and stop early) on ``fold_targets[k]`` when
        given, else on ``y``."""
        cv = cv or self.cv
        folds = fold_ids(len(y), cv=cv, groups=grp, seed=self.random_state)
        oof = np.zeros(len(y))
        rounds: list[int] = []
        for k in range(cv):
            test, valid = folds == k, folds == (k + 1) % cv
            train = ~(test | valid)
            t = y if fold_targets is None else fold_targets[k]
            dtrain = lgb.Dataset(x[train], t[train], feature_name=names)
            dvalid = lgb.Dataset(x[valid], t[valid], reference=dtrain)
            booster = lgb.train(
                params, dtrain, num_boost_round=self.n_estimators, valid_sets=[dvalid],
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
            best = booster.best_iteration or booster.current_iteration()
            rounds.append(best)
            oof[test] = booster.predict(x[test], raw_score=True, num_iteration=best)
        return oof, rounds

    def _set_oof(self, risk: np.ndarray, error: np.ndarray) -> None:
        if len(risk) > MAX_OOF_ROWS:
            keep = np.sort(np.random.default_rng(0).choice(len(risk), MAX_OOF_ROWS, replace=False))
            risk, error = risk[keep], error[keep]
        self.oof_risk_ = np.asarray(risk, dtype=np.float64)
        self.oof_error_ = np.asarray(error, dtype=np.int8)

    def _estimator(self) -> Any:
        if self.degradation is None:
            return None
        if self.degradation != "default":
            raise ValueError(f"degradation must be 'default' or None, got {self.degradation!r}")
        from featrisk.degradation import default_estimator

        return default_estimator(self.profile)

    def _degradation_columns(self) -> list[str]:
        est = self._estimator()
        return [] if est is None else est.columns

    def _with_degradation(self, table: pd.DataFrame) -> pd.DataFrame:
        """Add the degradation estimator's outputs unless the table already holds them."""
        est = self._estimator()
        if est is None or set(est.columns) <= set(table.columns):
            return table
        derived = est.transform(table)
        return pd.concat([table, derived.drop(columns=[c for c in derived if c in table])],
                         axis=1)

    # -- using ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise NotFittedError(
                "this RiskModel is not fitted yet; call fit(X, correct) or featrisk.load(path)"
            )

    def _matrix(self, X: Any, extra: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
        self._check_fitted()
        base = tuple(f for f in self.feature_names_ if f not in self.extra_columns_)
        table = design_matrix(X, extra, required=base, profile=self.profile)
        table = self._with_degradation(fill_file_facts(table, self.file_fill_))
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

    def decision_function(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Raw log-odds of the booster (before calibration), NaN for unreadable images."""
        table, x = self._matrix(X, extra)
        return self._raw(table, x)

    def _raw(self, table: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        raw = np.full(len(table), np.nan)
        ok = table["error"].isna().to_numpy()
        if ok.any():
            raw[ok] = self.booster_.predict(x[ok], raw_score=True)
        return raw

    def _calibrate(self, raw: np.ndarray, x: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        return _sigmoid(self._logit(raw, x, table))

    def calibration_offset(self, X: Any, *, extra: pd.DataFrame | None = None) -> np.ndarray:
        """Log-odds the calibration adds per image beyond Platt's ``a * raw + b``.

        The degradation stack's term (``calibration="stack"``), or the hybrid stack's
        weighted signals (``hybrid="stack"``, probabilities as log-odds); 0 under plain
        Platt scaling. The calibrated risk is ``sigmoid(a * decision_function + b +
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # image paths, or the feature table
        return tags

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
        table = design_matrix(X, None, required=self._base_columns(), profile=self.profile)
        return atypicality_of(self, table)

    def _check_atypicality(self) -> None:
        if getattr(self, "atypicality_", None) is None:
            raise ValueError("this model stores no atypicality reference (saved by an older "
                             "featrisk, fitted with features=[], or fitted on too few correct "
                             "images); re-fit it")

    def _base_columns(self) -> list[str]:
        return [f for f in self.feature_names_ if f in FEATURE_COLUMNS]

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

    def explain(self, X: Any, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """TreeSHAP contributions (log-odds) per feature plus ``base_value``, per image.

        Each row sums to the booster's raw score (:meth:`decision_function`). The risk is
        ``sigmoid(a * raw + b + calibration_offset)``: Platt scaling, plus, for
        models fitted with ``calibration="stack"``, the stack's term for the estimated
        degradation, or with ``hybrid="stack"`` the softmax term (:meth:`calibration_offset`).
        Unreadable images get NaN rows.
        """
        table, x = self._matrix(X, extra)
        frame = contributions_frame(self, table, x)
        frame.insert(0, "path", table["path"].to_numpy())
        return frame

    def importance(self) -> pd.DataFrame:
        """Global importance: mean |TreeSHAP| (log-odds, on the training images) and gain.

        Returns
        -------
        DataFrame
            Indexed by feature, columns ``mean_abs_contribution`` and ``gain`` (share of
            total split gain), sorted by the first, descending.
        """
        self._check_fitted()
        gain = self.booster_.feature_importance(importance_type="gain")
        total = gain.sum() or 1.0
        frame = pd.DataFrame(
            {"mean_abs_contribution": [self.mean_abs_contrib_[f] for f in self.feature_names_],
             "gain": gain / total},
            index=pd.Index(self.feature_names_, name="feature"),
        )
        return frame.sort_values("mean_abs_contribution", ascending=False)

    def describe_value(self, feature: str, value: float) -> str:
        """Words for a value against the training distribution ("very low" ... "very high").

        See :func:`featrisk.wording.level`: below the 5th percentile of the training images
        is "very low", below the 25th "low", above the 75th "high", above the 95th "very
        high", else "typical".
        """
        self._check_fitted()
        return wording.level(value, self.feature_quantiles_[feature])

    def reasons(self, contributions: pd.DataFrame, table: pd.DataFrame, *, top: int = 3) -> list[str]:
        """Top risk-raising inputs per image in plain words, e.g. ``"darker than usual (+0.82)"``.

        Each reason is the phrase for the side of usual the image's value lies on (against
        the training quantiles, :mod:`featrisk.wording`) and its TreeSHAP contribution in
        log-odds; reasons are joined by ``"; "``, largest first. :meth:`reason_features`
        gives the same reasons' column names.

        Parameters
        ----------
        contributions : DataFrame
            TreeSHAP contributions per input column (:meth:`explain`), row-aligned with
            ``table``.
        table : DataFrame
            The images' input values (:meth:`inputs`).
        top : int, default 3
            Most reasons per image; only inputs that raised the risk count.

        Returns
        -------
        list of str
            One string per image, empty where nothing raised the risk or the image could not
            be read.
        """
        return self._reasons(contributions, table, top=top)[0]

    def reason_features(self, contributions: pd.DataFrame, table: pd.DataFrame, *,
                        top: int = 3) -> list[str]:
        """The column names of :meth:`reasons`, joined by ``"; "`` in the same order.

        For tools: ``"exposure_mean; blur_laplacian_var"`` where :meth:`reasons` reads
        ``"darker than usual (+0.82); less fine detail than usual (+0.31)"``.
        """
        return self._reasons(contributions, table, top=top)[1]

    def _reasons(self, contributions: pd.DataFrame, table: pd.DataFrame, *,
                 top: int) -> tuple[list[str], list[str]]:
        self._check_fitted()
        names = self.feature_names_
        return wording.reasons(names, contributions[names].to_numpy(), table[names].to_numpy(),
                               [self.feature_quantiles_[f] for f in names], top=top)

    def __repr__(self) -> str:
        state = (f"fitted on {self.training_summary_['n_images']} images"
                 if hasattr(self, "booster_") else "not fitted")
        return f"RiskModel({state})"


def file_fill_values(table: pd.DataFrame) -> dict[str, float]:
    """Middle of the interquartile range of each file-fact column over the rows that have it.

    The value a model gives the :data:`~featrisk.schema.FILE_COLUMNS` of images that have no
    file (arrays, PIL images): the typical file of its training images.
    """
    out = {}
    for col in FILE_COLUMNS:
        if col in table.columns:
            v = table[col].to_numpy(np.float64)
            v = v[np.isfinite(v)]
            if v.size:
                q25, q75 = np.quantile(v, (0.25, 0.75))
                out[col] = float((q25 + q75) / 2)
    return out


def fill_file_facts(table: pd.DataFrame, fill: dict[str, float]) -> pd.DataFrame:
    """``table`` with the NaN file facts of readable rows set to ``fill`` (a copy if any)."""
    readable = table["error"].isna().to_numpy() if "error" in table.columns else True
    holes = {c: readable & table[c].isna().to_numpy() for c in fill if c in table.columns}
    holes = {c: m for c, m in holes.items() if m.any()}
    if not holes:
        return table
    table = table.copy()
    for col, mask in holes.items():
        table.loc[mask, col] = fill[col]
    return table


def risk_table(model: RiskModel, X: Any, *, extra: pd.DataFrame | None = None,
               threshold: float | None = None, top_reasons: int = 3,
               atypicality_threshold: float | None = None) -> pd.DataFrame:
    """path, risk, atypicality, flagged, reasons, reason_features, error per image (see
    :func:`featrisk.predict`)."""
    if atypicality_threshold is not None:
        model._check_atypicality()
    table, x = model._matrix(X, extra)
    risk = model._calibrate(model._raw(table, x), x, table)
    atypicality = atypicality_of(model, table)
    thr = model.threshold_ if threshold is None else float(threshold)
    flagged = np.where(np.isnan(risk), True, risk >= thr)
    if atypicality_threshold is not None:
        flagged |= atypicality >= atypicality_threshold
    if top_reasons > 0:
        words, columns = model._reasons(contributions_frame(model, table, x), table, top=top_reasons)
    else:
        words = columns = [""] * len(table)
    return pd.DataFrame({
        "path": table["path"].to_numpy(),
        "risk": risk,
        "atypicality": atypicality,
        "flagged": flagged.astype(bool),
        "reasons": pd.Series(words, dtype=object),
        "reason_features": pd.Series(columns, dtype=object),
        "error": _row_errors(model, table, risk),
    })


def _row_errors(model: RiskModel, table: pd.DataFrame, risk: np.ndarray) -> pd.Series:
    """Why each row has no risk: the image's read error, or for a readable image the input
    the risk could not be computed without (None where there is a risk)."""
    errors = [e if isinstance(e, str) else None for e in table["error"]]
    hybrid = getattr(model, "hybrid_", None)
    columns = [] if hybrid is None else hybrid["columns"]
    for i in np.flatnonzero(np.isnan(risk)):
        if errors[i] is not None:
            continue
        path = table["path"].iloc[i]
        missing = [c for c in columns if not np.isfinite(table[c].iloc[i])]
        if missing:
            errors[i] = (f"{path}: {', '.join(missing)} missing; the hybrid stack needs the "
                         "classifier's signals it was fitted with for every image")
        else:
            errors[i] = f"{path}: no risk, an input value is not finite"
    return pd.Series(errors, dtype=object)


def _fit_atypicality(x: np.ndarray, columns: list[str],
                     wider: np.ndarray | None = None) -> Atypicality | None:
    """Atypicality reference on the typical training images ``x``, columns constant there
    scaled by their spread over all training images ``wider`` (None if too few images or
    no column varies)."""
    ok = np.isfinite(x).all(axis=1)
    if x.shape[1] == 0 or ok.sum() < ATYP_MIN_IMAGES:  # features=[]: nothing to measure
        return None
    try:
        return Atypicality().fit(x[ok], columns, wider=wider)
    except ValueError:  # no column varies: nothing to measure either
        return None


def atypicality_of(model: RiskModel, table: pd.DataFrame) -> np.ndarray:
    """Atypicality percentile per row of a design table (NaN where unavailable)."""
    ref = getattr(model, "atypicality_", None)
    if ref is None:
        return np.full(len(table), np.nan)
    x = table[ref.columns_].to_numpy(np.float64)
    return ref.percentile(x)


def contributions_frame(model: RiskModel, table: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    """TreeSHAP contributions and base value for a design matrix; NaN rows where unreadable."""
    out = np.full((len(table), len(model.feature_names_) + 1), np.nan)
    ok = table["error"].isna().to_numpy()
    if ok.any():
        out[ok] = model.booster_.predict(x[ok], pred_contrib=True)
    return pd.DataFrame(out, columns=[*model.feature_names_, "base_value"])


def _save(self: RiskModel, path: Any) -> Any:
    """Write the model to one JSON text file atomically; see :func:`featrisk.persist.save`."""
    from featrisk.persist import save

    return save(self, path)


RiskModel.save = _save  # type: ignore[attr-defined]
