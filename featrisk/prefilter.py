"""A long-lived prefilter: load a risk model once, then hold back risky images batch by batch."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from featrisk.api import default_model_path
from featrisk.extract import extract
from featrisk.inputs import CHANNEL_ORDERS, as_items
from featrisk.model import RiskModel, risk_table
from featrisk.persist import load

__all__ = ["Filtered", "Prefilter"]


@dataclass(frozen=True)
class Filtered:
    """What :meth:`Prefilter.filter` returns for one batch.

    Attributes
    ----------
    table : DataFrame
        One row per item, in order: ``path``, ``risk``, ``atypicality``, ``flagged``,
        ``reasons``, ``reason_features``, ``error`` (as :func:`featrisk.predict`).
    keep : ndarray of bool
        True for the items to pass on: readable and not flagged.
    items : list
        The kept items themselves, in order (``[x for x, k in zip(batch, keep) if k]``).
    """

    table: pd.DataFrame
    keep: np.ndarray
    items: list[Any]


class Prefilter:
    """Hold back images a classifier will probably get wrong, before it runs.

    The model and its threshold are loaded and chosen once; each call then extracts the
    batch's features in this thread (one decode per image, nothing written to disk) and
    scores them. An instance keeps no state between calls, so several threads may share it.

    Parameters
    ----------
    model : RiskModel or path, optional
        A fitted model or a saved model file; ``None`` loads the default model of
        ``profile`` (fitted on one public classifier's outcomes: fit your own for real use).
    flag_rate : float in (0, 1), optional
        Hold back this share of images, as measured on the model's validation data.
    target_accuracy : float in (0, 1], optional
        Hold back as few images as possible so that the classifier's accuracy on the rest
        reaches this, as measured on the model's validation data. With neither, the
        model's own threshold is used.
    atypicality_threshold : float in (0, 1), optional
        Also hold back images at least this atypical (see :func:`featrisk.predict`).
    top_reasons : int, default 0
        Reasons named per image; 0 skips the TreeSHAP contributions, the fastest.
    profile : {"default", "fast"}, default "default"
        With ``model=None``: which default model.
    channel_order : {"RGB", "BGR"}, default "RGB"
        Channel order of 3- and 4-channel arrays.

    Examples
    --------
    >>> prefilter = featrisk.Prefilter(target_accuracy=0.95)    # doctest: +SKIP
    >>> batch = prefilter.filter(uint8_images)                  # doctest: +SKIP
    >>> logits = classifier(preprocess(uint8_images[batch.keep]))  # doctest: +SKIP
    """

    def __init__(self, model: RiskModel | str | os.PathLike[str] | None = None, *,
                 flag_rate: float | None = None, target_accuracy: float | None = None,
                 atypicality_threshold: float | None = None, top_reasons: int = 0,
                 profile: str = "default", channel_order: str = "RGB") -> None:
        if flag_rate is not None and target_accuracy is not None:
            raise ValueError("pass flag_rate or target_accuracy, not both")
        if atypicality_threshold is not None and not 0.0 < atypicality_threshold < 1.0:
            raise ValueError(f"atypicality_threshold must be in (0, 1), got {atypicality_threshold}")
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}")
        if not isinstance(top_reasons, int) or top_reasons < 0:
            raise ValueError(f"top_reasons must be a non-negative int, got {top_reasons!r}")
        if model is None:
            model = default_model_path(profile)
        self.model = model if isinstance(model, RiskModel) else load(model)
        self.model._check_fitted()
        if atypicality_threshold is not None:
            self.model._check_atypicality()
        self.threshold = (self.model.threshold_ if flag_rate is None and target_accuracy is None
                          else self.model.threshold_for(flag_rate=flag_rate,
                                                        target_accuracy=target_accuracy))
        self.atypicality_threshold = atypicality_threshold
        self.top_reasons = top_reasons
        self.channel_order = channel_order

    def score(self, images: Any, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """The scored table of a batch (paths, bytes, arrays or PIL images, mixed)."""
        table = extract(images, profile=self.model.profile, channel_order=self.channel_order)
        return risk_table(self.model, table, extra=extra, threshold=self.threshold,
                          top_reasons=self.top_reasons,
                          atypicality_threshold=self.atypicality_threshold)

    def filter(self, images: Any, *, extra: pd.DataFrame | None = None) -> Filtered:
        """Score a batch and say which items to keep (readable and not flagged)."""
        items = as_items(images)
        table = self.score(items, extra=extra)
        keep = ~table["flagged"].to_numpy(bool)
        return Filtered(table=table, keep=keep, items=[x for x, k in zip(items, keep, strict=True) if k])

    __call__ = filter

    def __repr__(self) -> str:
        return (f"Prefilter(profile={self.model.profile!r}, threshold={self.threshold:.4g}, "
                f"atypicality_threshold={self.atypicality_threshold})")
