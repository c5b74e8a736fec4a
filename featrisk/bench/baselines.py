"""Per-image scores the benchmark compares beside the cross-validated risk models.

The classifier-free baselines (CleanVision-style rules, and the columns of the "properties
model"), the degradation oracle, the known degradation in the estimator's columns, and the
atypicality blend; :mod:`featrisk.bench.evaluate` and :mod:`featrisk.bench.heldout` score
every image with them out of fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from featrisk.degradation import SEVERITY_COLUMN
from featrisk.model import RiskModel

#: Columns of the "properties model" baseline (default image properties of a popular suite).
PROPERTY_COLUMNS = ["exposure_mean", "contrast_rms", "geometry_aspect_ratio",
                    "geometry_megapixels", "color_mean_r", "color_mean_g", "color_mean_b"]

SOFTMAX_COLUMNS = ["max_prob", "margin", "entropy", "gini"]


def rank_score(values: np.ndarray) -> np.ndarray:
    """Rank percentile in (0, 1] (ties averaged): turns any score into a [0, 1] ranking."""
    return pd.Series(values).rank(method="average", pct=True).to_numpy()


def cleanvision_scores(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """CleanVision-style rule scores (higher = more likely a problem image), in [0, 1].

    dark: low 99th-percentile brightness; light: high 5th-percentile brightness; blurry: low
    Laplacian variance of the (resized) grey image; low_information: low grey-histogram
    entropy. Each is rank-normalised; ``cleanvision_any`` is their maximum.
    """
    rules = {
        "cleanvision_dark": rank_score(-features["exposure_p99"].to_numpy()),
        "cleanvision_light": rank_score(features["exposure_p05"].to_numpy()),
        "cleanvision_blurry": rank_score(-features["blur_laplacian_var"].to_numpy()),
        "cleanvision_low_information": rank_score(-features["exposure_entropy"].to_numpy()),
    }
    rules["cleanvision_any"] = np.max(np.column_stack(list(rules.values())), axis=1)
    return rules


def risk_percentile(model: RiskModel, risk: np.ndarray) -> np.ndarray:
    """Share of the model's out-of-fold training risks at or below each risk, in [0, 1]."""
    ref = np.sort(model.oof_risk_)
    return np.searchsorted(ref, risk, side="right") / len(ref)


def with_atypicality(model: RiskModel, risk: np.ndarray,
                     features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(atypicality, mean of risk percentile and atypicality) for a fitted model's images.

    The mean of the two percentiles is a ranking score that trusts the risk model and the
    classifier-free atypicality equally; both parts are computable for any new image.
    """
    atyp = model.atypicality(features)
    return atyp, 0.5 * (risk_percentile(model, risk) + atyp)


def oracle_risk(train: pd.DataFrame, test: pd.DataFrame, error_train: np.ndarray) -> np.ndarray:
    """Each test image's training error rate of its (degradation, severity) cell.

    One pseudo-observation at the overall training error rate smooths every cell; a cell
    the training rows lack scores that overall rate.
    """
    cells = train[["degradation", "severity"]].astype(str).agg("|".join, axis=1)
    stats = pd.DataFrame({"cell": cells.to_numpy(), "e": error_train}).groupby("cell")["e"]
    prior = float(error_train.mean())
    rate = (stats.sum() + prior) / (stats.count() + 1)  # one pseudo-observation at the prior
    test_cells = test[["degradation", "severity"]].astype(str).agg("|".join, axis=1)
    return test_cells.map(rate).fillna(prior).to_numpy(float)


def true_degradation(columns: list[str], degradation: np.ndarray,
                      severity: np.ndarray) -> pd.DataFrame:
    """The estimator's output columns filled with the known truth: one-hot family, severity.

    Parameters
    ----------
    columns : list of str
        :attr:`featrisk.degradation.DegradationEstimator.columns`
        (``degradation_p_<family>`` ..., ``degradation_severity``).
    degradation : array of str
        Each image's family (``"none"`` if clean).
    severity : array of float
        Each image's severity, 0 (clean) to 5.

    Returns
    -------
    pandas.DataFrame
        Same columns, 0/1 probabilities and the severity, one row per image.
    """
    deg = np.asarray(degradation).astype(str)
    return pd.DataFrame({
        col: np.asarray(severity, dtype=float) if col == SEVERITY_COLUMN
        else (deg == col.removeprefix("degradation_p_")).astype(float)
        for col in columns})
