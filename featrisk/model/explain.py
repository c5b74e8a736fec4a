"""Explanations of a RiskModel: TreeSHAP contributions, global importance, reasons in words.

Contributions are LightGBM's own TreeSHAP (``pred_contrib=True``), in log-odds of the
booster's raw score, with the base value in a separate column: each row sums to the raw
score. Reasons put the top risk-raising inputs in words against the training quantiles
(:mod:`featrisk.wording`).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from featrisk import wording
from featrisk.model.predict import PredictMixin

__all__ = ["QUANTILES", "ExplainMixin", "contributions_frame", "feature_quantiles"]

#: Quantiles of the training features kept to describe values in words ("very low", ...,
#: and which side of usual a reason's value lies on, :mod:`featrisk.wording`).
QUANTILES = (0.05, 0.25, 0.75, 0.95)


def feature_quantiles(x: np.ndarray, names: list[str]) -> dict[str, list[float]]:
    """:data:`QUANTILES` of each column of the training inputs ``x``."""
    return {f: [float(v) for v in np.quantile(x[:, i], QUANTILES)] for i, f in enumerate(names)}


def mean_abs_contributions(booster: lgb.Booster, x: np.ndarray,
                           names: list[str]) -> dict[str, float]:
    """Mean |TreeSHAP contribution| (log-odds) of each input over the rows of ``x``."""
    contrib = booster.predict(x, pred_contrib=True)[:, :-1]
    return dict(zip(names, np.abs(contrib).mean(axis=0).tolist(), strict=True))


def contributions_frame(booster: lgb.Booster, names: list[str], table: pd.DataFrame,
                        x: np.ndarray) -> pd.DataFrame:
    """TreeSHAP contributions and base value for a design matrix; NaN rows where unreadable."""
    out = np.full((len(table), len(names) + 1), np.nan)
    ok = table["error"].isna().to_numpy()
    if ok.any():
        out[ok] = booster.predict(x[ok], pred_contrib=True)
    return pd.DataFrame(out, columns=[*names, "base_value"])


class ExplainMixin(PredictMixin):
    """The explanation methods of :class:`featrisk.RiskModel`, on its fitted attributes
    (those :class:`~featrisk.model.predict.PredictMixin` reads, ``feature_quantiles_`` and
    ``mean_abs_contrib_``)."""

    def explain(self, X: Any, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
        """TreeSHAP contributions (log-odds) per feature plus ``base_value``, per image.

        Each row sums to the booster's raw score (:meth:`raw_risk`). The risk is
        ``sigmoid(a * raw + b + calibration_offset)``: Platt scaling, plus, for
        models fitted with ``calibration="stack"``, the stack's term for the estimated
        degradation, or with ``hybrid="stack"`` the softmax term (:meth:`calibration_offset`).
        Unreadable images get NaN rows.
        """
        table, x = self._matrix(X, extra)
        frame = contributions_frame(self.booster_, self.feature_names_, table, x)
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
