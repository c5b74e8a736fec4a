"""The functions users call: fit, predict, load."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

import pandas as pd

from featrisk.errors import FeatriskError
from featrisk.extract import extract
from featrisk.model import RiskModel, risk_table
from featrisk.persist import load
from featrisk.profiles import get_profile, profile_of

__all__ = ["default_model_path", "fit", "predict"]


def default_model_file(profile: str = "default") -> str:
    """File name of the default model shipped for ``profile``: ``default[_<profile>].json``."""
    return f"default{get_profile(profile).suffix}.json"


def fit(X: Any, correct: Any = None, *, y_true: Any = None, y_pred: Any = None,
        extra: pd.DataFrame | None = None, groups: Any = None, n_jobs: int = 1,
        progress: bool = False, **params: Any) -> RiskModel:
    """Fit a failure-risk model on a classifier's validation outcomes.

    Parameters
    ----------
    X : images or DataFrame
        Validation images (paths, encoded bytes, uint8 arrays or PIL images, see
        :func:`featrisk.extract`), or the table :func:`featrisk.extract` returned for them.
    correct : array-like of bool
        True where the classifier was right. Alternatively pass ``y_true`` and ``y_pred``.
    extra : DataFrame, optional
        More numeric per-image columns, e.g. :func:`featrisk.softmax_features`.
    groups : array-like, optional
        Group per image (e.g. source photo); cross-fitting never splits a group.
    n_jobs, progress
        Passed to :func:`featrisk.extract` when ``X`` holds images.
    **params
        :class:`RiskModel` parameters (``cv``, ``learning_rate``, ``threshold``,
        ``profile``, ...). ``profile`` defaults to the table's (:mod:`featrisk.profiles`).

    Returns
    -------
    RiskModel
        Fitted; ``model.training_summary_`` holds its out-of-fold AUROC and calibration error.
    """
    if isinstance(X, pd.DataFrame):
        table = X
        params.setdefault("profile", profile_of(X))
    else:
        table = extract(X, n_jobs=n_jobs, progress=progress,
                        profile=params.get("profile", "default"))
    return RiskModel(**params).fit(table, correct, y_true=y_true, y_pred=y_pred, extra=extra,
                                   groups=groups)


def default_model_path(profile: str = "default") -> str:
    """Path of the default model shipped for ``profile``; raises if this version has none."""
    ref = resources.files("featrisk") / "models" / default_model_file(profile)
    if not ref.is_file():
        raise FeatriskError(
            f"no default model for profile {profile!r} is shipped with this featrisk; fit one "
            "on your classifier's validation outcomes (featrisk.fit(paths, correct)) and pass "
            "model=..."
        )
    return str(ref)


def predict(X: Any, model: RiskModel | str | os.PathLike[str] | None = None, *,
            extra: pd.DataFrame | None = None, flag_rate: float | None = None,
            target_accuracy: float | None = None, atypicality_threshold: float | None = None,
            top_reasons: int = 3, n_jobs: int = 1, progress: bool = False,
            profile: str | None = None, channel_order: str = "RGB") -> pd.DataFrame:
    """Risk that the classifier gets each image wrong, with a flag and the reasons.

    Parameters
    ----------
    X : images or DataFrame
        Images (paths, encoded bytes, uint8 arrays or PIL images, alone or mixed, see
        :func:`featrisk.extract`), or the table :func:`featrisk.extract` returned for them
        (identical results).
    model : RiskModel or path, optional
        A fitted model or a saved model file. ``None`` uses the package's default model,
        which was fitted on one public classifier's outcomes: fit your own for real use.
        Paths are extracted with the model's profile (:mod:`featrisk.profiles`).
    extra : DataFrame, optional
        The extra columns the model was fitted with (e.g. softmax features).
    flag_rate : float in (0, 1), optional
        Flag the riskiest share of images, as measured on the model's validation data,
        instead of flagging at the model's default threshold.
    target_accuracy : float in (0, 1], optional
        Flag as few images as possible so that the classifier's accuracy on the rest
        reaches this, as measured on the model's validation data.
    atypicality_threshold : float in (0, 1), optional
        Also flag images whose ``atypicality`` reaches this percentile (e.g. 0.99): a guard
        against damage the risk model never saw in its training data.
    top_reasons : int, default 3
        Risk-raising inputs named in ``reasons``; 0 leaves ``reasons`` and
        ``reason_features`` empty and skips the TreeSHAP contributions (faster).
    profile : {"default", "fast"}, optional
        With ``model=None``: the default model of this profile. Defaults to the profile of
        ``X`` when it is a table, else ``"default"``.
    channel_order : {"RGB", "BGR"}, default "RGB"
        Channel order of 3- and 4-channel arrays in ``X`` (:func:`featrisk.extract`).

    Returns
    -------
    DataFrame
        ``path``, ``risk`` (0-1, NaN if unreadable), ``atypicality`` (percentile 0-1 among
        typical training images the classifier got right, see :meth:`RiskModel.atypicality`;
        NaN if unreadable), ``flagged`` (bool; True where there is no risk), ``reasons``
        (what raised the risk, in plain words, largest first, e.g. ``"sharpest area blurrier
        than usual (+0.82); darker than usual (+0.31)"``: each input's phrase for the side of
        its training images' usual value it lies on, :mod:`featrisk.wording`, and its
        TreeSHAP contribution in log-odds), ``reason_features`` (the same reasons' column
        names for tools, e.g. ``"blur_tile_max; exposure_mean"``), ``error`` (None, or why
        there is no risk: the image could not be read, or a hybrid stack model was given no
        top-1 probability for it).
    """
    if flag_rate is not None and target_accuracy is not None:
        raise ValueError("pass flag_rate or target_accuracy, not both")
    if atypicality_threshold is not None and not 0.0 < atypicality_threshold < 1.0:
        raise ValueError(f"atypicality_threshold must be in (0, 1), got {atypicality_threshold}")
    if model is None:
        if profile is None:
            profile = profile_of(X) if isinstance(X, pd.DataFrame) else "default"
        model = default_model_path(profile)
    if not isinstance(model, RiskModel):
        model = load(model)
    if profile is not None and profile != model.profile:
        raise ValueError(f"profile={profile!r} but the model reads profile {model.profile!r}")
    threshold = None
    if flag_rate is not None or target_accuracy is not None:
        threshold = model.threshold_for(flag_rate=flag_rate, target_accuracy=target_accuracy)
    if atypicality_threshold is not None:
        model._check_atypicality()  # before the extraction, not after it
    if not isinstance(X, pd.DataFrame):
        X = extract(X, n_jobs=n_jobs, progress=progress, profile=model.profile,
                    channel_order=channel_order)
    return risk_table(model, X, extra=extra, threshold=threshold, top_reasons=top_reasons,
                      atypicality_threshold=atypicality_threshold)
