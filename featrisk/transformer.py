"""FeatureExtractor: :func:`featrisk.extract` as a scikit-learn transformer.

Put it in front of :class:`featrisk.RiskModel` to get one estimator from images to risk::

    pipe = Pipeline([("features", FeatureExtractor()), ("risk", RiskModel())])
    pipe.fit(paths, correct, risk__groups=source_ids)
    pipe.predict_proba(new_paths)[:, 0]          # the risk of each new image

It learns nothing (``fit`` returns it unchanged), so it can be cloned, cross-validated and
pickled like any transformer; the images are decoded once per ``transform`` call.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from featrisk.extract import extract

__all__ = ["FeatureExtractor"]


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """Images in, the feature table of :func:`featrisk.extract` out.

    Parameters
    ----------
    profile : {"default", "fast"}, default "default"
        Extraction profile; the risk model after it must use the same.
    n_jobs : int, default 1
        Worker processes for extraction (-1: all cores).
    channel_order : {"RGB", "BGR"}, default "RGB"
        Channel order of NumPy colour arrays among the images.
    """

    def __init__(self, *, profile: str = "default", n_jobs: int = 1,
                 channel_order: str = "RGB") -> None:
        self.profile = profile
        self.n_jobs = n_jobs
        self.channel_order = channel_order

    def fit(self, X: Any, y: Any = None) -> FeatureExtractor:
        """Nothing to learn; returns ``self``."""
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """The feature table of the images ``X`` (paths, bytes, arrays or PIL images), one
        row per image in order; unreadable images get an ``error`` and NaN features."""
        return extract(X, profile=self.profile, n_jobs=self.n_jobs,
                       channel_order=self.channel_order)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
