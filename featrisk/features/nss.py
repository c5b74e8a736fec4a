"""Natural-scene statistics: MSCN coefficients at two scales (BRISQUE-style moments).

Reference: A. Mittal, A. K. Moorthy, A. C. Bovik, "No-reference image quality assessment in
the spatial domain", IEEE TIP 21(12), 2012. Mean-subtracted contrast-normalised (MSCN)
coefficients of pristine photos are close to unit-variance Gaussian with weak neighbour
correlation; blur raises neighbour products and lowers variance, noise lowers neighbour
products and kurtosis, compression and clipping raise kurtosis. Moments are used here
instead of the paper's generalised-Gaussian fits, which cost far more.
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext

#: Gaussian window of the local normalisation (7x7, sigma 7/6, as in BRISQUE).
WINDOW, SIGMA = (7, 7), 7.0 / 6.0
#: Stabilising constant, grey levels (image in 0-255).
C = 1.0

COLUMNS = (
    Column("nss_mscn_var", "unitless", "[0, ~3]", "both", "Variance of MSCN coefficients.",
           low="more smooth patches than usual", high="fewer smooth patches than usual"),
    Column("nss_mscn_kurtosis", "unitless", "[~1, ~50]", "both",
           "Kurtosis of MSCN coefficients (3 for Gaussian).",
           low="detail more evenly grainy than usual", high="detail sparser and spikier than usual"),
    Column("nss_mscn_skew", "unitless", "[~-5, ~5]", "both", "Skewness of MSCN coefficients.",
           low="dark details stand out more", high="bright details stand out more"),
    Column("nss_pair_h", "unitless", "[-1, 1]", "both",
           "Mean product of horizontally adjacent MSCN coefficients (blur raises it).",
           low="grainier side to side than usual", high="smoother side to side than usual"),
    Column("nss_pair_v", "unitless", "[-1, 1]", "both", "Same, vertically adjacent.",
           low="grainier top to bottom than usual", high="smoother top to bottom than usual"),
    Column("nss_pair_d", "unitless", "[-1, 1]", "both", "Same, mean of the two diagonals.",
           low="grainier along diagonals than usual", high="smoother along diagonals than usual"),
    Column("nss_mscn_var_half", "unitless", "[0, ~3]", "both",
           "MSCN variance at half resolution.",
           low="less medium-scale texture than usual", high="more medium-scale texture than usual"),
    Column("nss_pair_h_half", "unitless", "[-1, 1]", "both",
           "Horizontal neighbour product at half resolution.",
           low="grainier at medium scale than usual", high="smoother at medium scale than usual"),
    Column("nss_mscn_var_quarter", "unitless", "[0, ~3]", "both",
           "MSCN variance at quarter resolution.",
           low="less coarse texture than usual", high="more coarse texture than usual"),
    Column("nss_pair_h_quarter", "unitless", "[-1, 1]", "both",
           "Horizontal neighbour product at quarter resolution.",
           low="grainier at coarse scale than usual", high="smoother at coarse scale than usual"),
)


def mscn(grey: np.ndarray) -> np.ndarray:
    """MSCN coefficients of a float32 0-255 luminance image."""
    mu = cv2.GaussianBlur(grey, WINDOW, SIGMA)
    var = cv2.GaussianBlur(grey * grey, WINDOW, SIGMA) - mu * mu
    return (grey - mu) / (np.sqrt(np.maximum(var, 0.0)) + C)


def _moments(x: np.ndarray) -> tuple[float, float, float]:
    """Variance, kurtosis and skewness (float32 products, float64 sums)."""
    d = x - np.float32(cv2.mean(x)[0])
    d2 = cv2.multiply(d, d)
    var = cv2.mean(d2)[0]
    if var < 1e-12:
        return var, 0.0, 0.0
    third = cv2.mean(cv2.multiply(d2, d))[0]
    fourth = cv2.mean(cv2.multiply(d2, d2))[0]
    return var, fourth / var**2, third / var**1.5


def _pair(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of the elementwise product of two equal-shape float32 arrays (double sum)."""
    return cv2.mean(cv2.multiply(a, b))[0]


def compute(ctx: ImageContext) -> dict[str, float]:
    """Natural-scene statistics of one image."""
    m = mscn(ctx.grey_f)
    var, kurt, skew = _moments(m)
    levels = ctx.halvings(2, min_side=8)  # images too small to halve keep their size
    half_grey = levels[0] if levels else ctx.grey_f
    mh = mscn(half_grey)
    mq = mscn(levels[1] if len(levels) > 1 else half_grey)
    return {
        "nss_mscn_var": var,
        "nss_mscn_kurtosis": kurt,
        "nss_mscn_skew": skew,
        "nss_pair_h": _pair(m[:, :-1], m[:, 1:]) if m.shape[1] > 1 else 0.0,
        "nss_pair_v": _pair(m[:-1, :], m[1:, :]) if m.shape[0] > 1 else 0.0,
        "nss_pair_d": 0.5 * (_pair(m[:-1, :-1], m[1:, 1:]) + _pair(m[:-1, 1:], m[1:, :-1]))
        if min(m.shape) > 1 else 0.0,
        "nss_mscn_var_half": _moments(mh)[0],
        "nss_pair_h_half": _pair(mh[:, :-1], mh[:, 1:]) if mh.shape[1] > 1 else 0.0,
        "nss_mscn_var_quarter": _moments(mq)[0],
        "nss_pair_h_quarter": _pair(mq[:, :-1], mq[:, 1:]) if mq.shape[1] > 1 else 0.0,
    }
