"""Colour: channel means, hue and saturation histograms, colourfulness, colour cast.

Colourfulness follows Hasler & Suesstrunk, "Measuring colourfulness in natural images",
SPIE 5007, 2003. The cast measures read the mean a*, b* of CIE L*a*b* (how far the average
colour is from neutral grey) and the cast ratio D / (M + 1), with D that distance and M the
mean distance of pixel chroma from the average (a cast is strong when the whole image is
shifted, not when it holds a few saturated objects).
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext

#: Hue bins (equal width over the hue circle) and saturation bins (equal width over [0, 1]).
HUE_BINS, SAT_BINS = 8, 4
#: Pixels count towards the hue histogram only above this saturation and value (0-255).
CHROMATIC_MIN = 38

_HUE_NAMES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta")
#: Plain words for the SAT_BINS saturation bins, least to most saturated.
_SAT_WORDS = ("near-grey", "muted-colour", "rich-colour", "vivid-colour")

COLUMNS = (
    Column("color_mean_r", "intensity", "[0, 1]", "none", "Mean red channel.",
           low="less red overall than usual", high="more red overall than usual"),
    Column("color_mean_g", "intensity", "[0, 1]", "none", "Mean green channel.",
           low="less green overall than usual", high="more green overall than usual"),
    Column("color_mean_b", "intensity", "[0, 1]", "none", "Mean blue channel.",
           low="less blue overall than usual", high="more blue overall than usual"),
    Column("color_saturation_mean", "saturation", "[0, 1]", "both", "Mean HSV saturation.",
           low="duller colours than usual", high="stronger colours than usual"),
    Column("color_saturation_std", "saturation", "[0, 0.5]", "lower", "Std of HSV saturation.",
           low="colour strength more uniform than usual", high="colour strength more varied than usual"),
    *(
        Column(f"color_hue_{i}_{name}", "share", "[0, 1]", "none",
               f"Share of all pixels that are chromatic (S, V >= 0.15) with hue in bin {i} "
               f"of 8 (45 degrees each, starting at red: {name}).",
               low=f"fewer {name} areas than usual", high=f"more {name} areas than usual")
        for i, name in enumerate(_HUE_NAMES)
    ),
    *(
        Column(f"color_sat_{i}", "share", "[0, 1]", "none",
               f"Share of pixels with HSV saturation in [{i / 4:.2f}, {(i + 1) / 4:.2f}).",
               low=f"fewer {_SAT_WORDS[i]} areas than usual",
               high=f"more {_SAT_WORDS[i]} areas than usual")
        for i in range(SAT_BINS)
    ),
    Column("color_colorfulness", "intensity*255", "[0, ~200]", "both",
           "Hasler-Suesstrunk colourfulness M = sigma_rgyb + 0.3 mu_rgyb; < 15 is nearly grey.",
           low="less colourful than usual", high="more colourful than usual"),
    Column("color_cast_a", "Lab a*", "[-128, 127]", "both", "Mean a* (+ red/magenta, - green).",
           low="greener tint than usual", high="redder tint than usual"),
    Column("color_cast_b", "Lab b*", "[-128, 127]", "both", "Mean b* (+ yellow, - blue).",
           low="bluer tint than usual", high="yellower tint than usual"),
    Column("color_cast_strength", "Lab units", "[0, ~180]", "higher",
           "Distance of the mean (a*, b*) from neutral grey.",
           low="weaker colour tint than usual", high="stronger colour tint than usual"),
    Column("color_cast_ratio", "ratio", "[0, ~20]", "higher",
           "Cast strength / (mean chroma spread around the mean + 1).",
           low="one tint dominates less than usual", high="one tint dominates more than usual"),
    Column("color_greyworld_dev", "ratio", "[0, 1.5]", "higher",
           "Std of the three channel means / their mean: deviation from the grey-world assumption.",
           low="colour balance more neutral than usual", high="colour balance more skewed than usual"),
)


#: Hue (0-179) and saturation (0-255) values mapped to their histogram bins.
_HUE_GROUP = np.arange(180) * HUE_BINS // 180
_SAT_GROUP = np.minimum(np.arange(256) * SAT_BINS // 255, SAT_BINS - 1)
_LEVELS = np.arange(256, dtype=np.float64)
_HUE_KEYS = tuple(f"color_hue_{i}_{name}" for i, name in enumerate(_HUE_NAMES))
_SAT_KEYS = tuple(f"color_sat_{i}" for i in range(SAT_BINS))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler-Suesstrunk colourfulness of an RGB uint8 image, in 0-255 intensity units."""
    r, g, b = (c.astype(np.float32) for c in cv2.split(rgb))
    rg = r - g
    yb = 0.5 * (r + g) - b
    (mu_rg,), (sd_rg,) = cv2.meanStdDev(rg)
    (mu_yb,), (sd_yb,) = cv2.meanStdDev(yb)
    return float(np.hypot(sd_rg[0], sd_yb[0]) + 0.3 * np.hypot(mu_rg[0], mu_yb[0]))


def compute(ctx: ImageContext) -> dict[str, float]:
    """Colour measures of one image."""
    means = np.array(cv2.mean(ctx.rgb)[:3]) / 255.0
    hsv = ctx.hsv
    n = float(hsv.shape[0] * hsv.shape[1])
    chromatic = cv2.inRange(hsv, (0, CHROMATIC_MIN, CHROMATIC_MIN), (255, 255, 255))
    hue_hist = cv2.calcHist([hsv], [0], chromatic, [180], [0, 180]).ravel()
    hue_bins = np.bincount(_HUE_GROUP, weights=hue_hist, minlength=HUE_BINS) / n
    sat_hist = cv2.calcHist([hsv], [1], None, [256], [0, 256]).ravel().astype(np.float64)
    sat_bins = np.bincount(_SAT_GROUP, weights=sat_hist, minlength=SAT_BINS) / n
    sat_mean = float(sat_hist @ _LEVELS) / n
    sat_std = float(np.sqrt(sat_hist @ (_LEVELS - sat_mean) ** 2 / n))
    _, a, b = cv2.split(ctx.lab)  # 8-bit Lab: a* = a - 128, b* = b - 128
    mean_ab = np.array([cv2.mean(a)[0], cv2.mean(b)[0]]) - 128.0
    strength = float(np.hypot(*mean_ab))
    da = a.astype(np.float32) - np.float32(mean_ab[0] + 128.0)
    db = b.astype(np.float32) - np.float32(mean_ab[1] + 128.0)
    spread = cv2.mean(np.sqrt(da * da + db * db))[0]  # not cv2.magnitude: alignment-dependent
    out = {
        "color_mean_r": float(means[0]),
        "color_mean_g": float(means[1]),
        "color_mean_b": float(means[2]),
        "color_saturation_mean": sat_mean / 255.0,
        "color_saturation_std": sat_std / 255.0,
    }
    out.update(zip(_HUE_KEYS, hue_bins.tolist(), strict=True))
    out.update(zip(_SAT_KEYS, sat_bins.tolist(), strict=True))
    out.update({
        "color_colorfulness": colorfulness(ctx.rgb),
        "color_cast_a": float(mean_ab[0]),
        "color_cast_b": float(mean_ab[1]),
        "color_cast_strength": strength,
        "color_cast_ratio": strength / (spread + 1.0),
        "color_greyworld_dev": float(means.std() / means.mean()) if means.mean() > 1e-6 else 0.0,
    })
    return out
