"""Risk reasons in plain words, with the column names kept for tools.

A reason is one input that raised an image's risk (a positive TreeSHAP contribution, in
log-odds) worded by the side of "usual" its value lies on: ``"darker than usual (+0.82)"``
rather than ``"exposure_mean very low (+0.82)"``. Image features carry their own two phrases
(``low`` and ``high`` of :class:`~featrisk.features.Column`); this module holds the phrases of
a model's other inputs: the degradation estimator's ``degradation_*`` columns, the classifier
signals ``softmax_*`` and ``signal_*``, and, for any other extra column, its name with
"lower than usual" or "higher than usual".

"Usual" is judged against the quantiles of the training images a fitted model keeps (5th,
25th, 75th and 95th percentiles, :data:`featrisk.model.QUANTILES`), as
:meth:`~featrisk.RiskModel.describe_value` does: below the 25th percentile is low, above the
75th high. A value between the two is compared with their middle, the model's stand-in for
the median it does not keep; on a tie (a column where most training images share one value,
such as a flag) the 5th and 95th percentiles decide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from featrisk.features import COLUMNS

__all__ = ["DAMAGE_WORDS", "SIGNAL_PHRASES", "level", "phrase", "phrases", "reasons", "side"]

#: Each degradation family of :mod:`featrisk.degrade` in words, as it fits "looks like ...
#: damage". A family missing here is worded by its name with spaces for underscores.
DAMAGE_WORDS: dict[str, str] = {
    "gaussian_blur": "blur",
    "motion_blur": "motion blur",
    "gaussian_noise": "noise",
    "shot_noise": "low-light grain",
    "salt_pepper": "salt-and-pepper noise",
    "jpeg": "jpeg compression",
    "underexposure": "underexposure",
    "overexposure": "overexposure",
    "contrast": "faded contrast",
    "haze": "haze",
    "occlusion": "pasted-patch",
    "pixelate": "pixelation",
    "color_cast": "colour cast",
    "vignette": "dark-corner vignetting",
    "elastic": "warping",
    "glass_blur": "frosted-glass blur",
    "zoom_blur": "zoom blur",
    "fog": "fog",
    "snow": "snow",
    "speckle_noise": "speckle noise",
    "resample": "low-resolution",
    "webp": "webp compression",
    "posterize": "colour banding",
    "rain": "rain",
    "spatter": "spatter",
    "shadow": "shadow",
    "grid_mask": "black-grid",
}

#: (low, high) phrases of the classifier signals of :func:`featrisk.softmax_features` and
#: :mod:`featrisk.signals`. The ``signal_*`` columns are oriented so that higher means more
#: likely wrong; ``softmax_max_prob`` and ``softmax_margin`` the other way round.
SIGNAL_PHRASES: dict[str, tuple[str, str]] = {
    "softmax_max_prob": ("classifier less confident than usual",
                         "classifier more confident than usual"),
    "softmax_margin": ("top two classes closer than usual", "top class further ahead than usual"),
    "softmax_entropy": ("classifier's guesses less spread than usual",
                        "classifier's guesses more spread than usual"),
    "softmax_gini": ("probability on fewer classes than usual",
                     "probability on more classes than usual"),
    "signal_max_softmax": ("classifier more confident than usual",
                           "classifier less confident than usual"),
    "signal_margin": ("top class further ahead than usual", "top two classes closer than usual"),
    "signal_entropy": ("classifier's guesses less spread than usual",
                       "classifier's guesses more spread than usual"),
    "signal_doctor": ("probability more concentrated than usual",
                      "probability more scattered than usual"),
    "signal_energy": ("classifier sees more evidence than usual",
                      "classifier sees less evidence than usual"),
    "signal_maxlogit_pnorm": ("top class stands out more than usual",
                              "top class stands out less than usual"),
    "signal_mc_max_softmax": ("repeated passes more confident than usual",
                              "repeated passes less confident than usual"),
    "signal_mc_entropy": ("repeated passes less unsure than usual",
                          "repeated passes more unsure than usual"),
    "signal_mc_mutual_information": ("repeated passes agree more than usual",
                                     "repeated passes disagree more than usual"),
    "signal_mc_disagreement": ("passes pick one class more often",
                               "passes pick different classes more often"),
    "signal_class_error_rate": ("predicted class rarely wrong in validation",
                                "predicted class often wrong in validation"),
    "signal_pair_confusion": ("top two classes rarely confused", "top two classes often confused"),
    "signal_knn_distance": ("close to correctly classified images",
                            "unlike correctly classified images"),
    "signal_knn_distance_class": ("close to correct images of its class",
                                  "unlike correct images of its class"),
    "signal_mahalanobis": ("near its class's usual look", "far from its class's usual look"),
    "signal_relative_distance": ("closer to past successes than usual",
                                 "closer to past mistakes than usual"),
}

_FEATURE_PHRASES = {c.name: (c.low, c.high) for c in COLUMNS}
_DAMAGE_PREFIX = "degradation_p_"
_SEVERITY = "degradation_severity"


def phrases(column: str) -> tuple[str, str]:
    """The (low, high) phrases of any input column of a model.

    Parameters
    ----------
    column : str
        A feature column, a degradation estimator column, a classifier signal or any other
        extra column.

    Returns
    -------
    (low, high) : tuple of str
        What a person would see in an image whose value is lower (higher) than usual. Only
        the fallback for an unknown extra column names the column, as nothing else says
        what it measures.
    """
    if column in _FEATURE_PHRASES:
        return _FEATURE_PHRASES[column]
    if column in SIGNAL_PHRASES:
        return SIGNAL_PHRASES[column]
    if column == _SEVERITY:
        return "damage looks mild", "damage looks severe"
    if column == f"{_DAMAGE_PREFIX}none":
        return "looks damaged", "looks undamaged"
    if column.startswith(_DAMAGE_PREFIX):
        family = column.removeprefix(_DAMAGE_PREFIX)
        words = DAMAGE_WORDS.get(family, family.replace("_", " "))
        return f"looks less like {words} damage than usual", f"looks like {words} damage"
    return f"{column} lower than usual", f"{column} higher than usual"


def level(value: float, quantiles: Sequence[float]) -> str:
    """Words for a value against the training quantiles: "very low" ... "very high".

    Parameters
    ----------
    value : float
        The image's value.
    quantiles : sequence of 4 floats
        The 5th, 25th, 75th and 95th percentiles of the training images.

    Returns
    -------
    str
        ``"very low"`` (below the 5th percentile), ``"low"`` (below the 25th), ``"high"``
        (above the 75th), ``"very high"`` (above the 95th), else ``"typical"`` (NaN too).
    """
    q05, q25, q75, q95 = quantiles
    if value < q05:
        return "very low"
    if value < q25:
        return "low"
    if value > q95:
        return "very high"
    if value > q75:
        return "high"
    return "typical"


def side(value: float, quantiles: Sequence[float]) -> str | None:
    """Which side of usual a value lies on: ``"low"``, ``"high"``, or None.

    Outside the interquartile range, :func:`level` decides. Inside it, the value is compared
    with the middle of the 25th and 75th percentiles; on a tie, with the middle of the 5th
    and 95th. None for NaN, and for a value equal to both middles (nothing to tell apart).
    """
    if not np.isfinite(value):
        return None
    word = level(value, quantiles)
    if word != "typical":
        return "low" if word.endswith("low") else "high"
    q05, q25, q75, q95 = quantiles
    for middle in ((q25 + q75) / 2, (q05 + q95) / 2):
        if value != middle:
            return "low" if value < middle else "high"
    return None


def phrase(column: str, value: float, quantiles: Sequence[float]) -> str:
    """The phrase for an image's value of one column, e.g. ``"darker than usual"``.

    A value with no side (:func:`side`) is worded with the column name: ``"<column>
    missing"`` for NaN, ``"<column> at its usual value"`` otherwise.
    """
    where = side(value, quantiles)
    if where is None:
        return f"{column} missing" if not np.isfinite(value) else f"{column} at its usual value"
    low, high = phrases(column)
    return low if where == "low" else high


def reasons(names: Sequence[str], contributions: np.ndarray, values: np.ndarray,
            quantiles: Sequence[Sequence[float]], *, top: int) -> tuple[list[str], list[str]]:
    """Top risk-raising inputs per image, in words and as column names.

    Parameters
    ----------
    names : sequence of str
        Input columns, in the order of the columns of ``contributions`` and ``values``.
    contributions : ndarray, shape (n_images, n_columns)
        TreeSHAP contributions (log-odds); a row with a non-finite entry (an unreadable
        image) gets no reason.
    values : ndarray, shape (n_images, n_columns)
        The images' input values.
    quantiles : sequence of sequences of 4 floats
        Per column, the training quantiles of :func:`level`.
    top : int
        Most reasons per image; only positive contributions count, largest first.

    Returns
    -------
    (words, columns) : tuple of lists of str
        One string per image each, reasons joined by ``"; "`` in the same order: the words,
        e.g. ``"darker than usual (+0.82); less fine detail than usual (+0.31)"``, and the
        column names, e.g. ``"exposure_mean; blur_laplacian_var"``. Empty where there is none.
    """
    words, columns = [], []
    for row, vals in zip(contributions, values, strict=True):
        if not np.isfinite(row).all():
            words.append("")
            columns.append("")
            continue
        order = [j for j in np.argsort(-row)[:top] if row[j] > 0]
        words.append("; ".join(f"{phrase(names[j], vals[j], quantiles[j])} ({row[j]:+.2f})"
                               for j in order))
        columns.append("; ".join(names[j] for j in order))
    return words, columns
