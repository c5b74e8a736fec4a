"""Warp: geometric distortion and local pixel displacement.

Elastic, grid and lens distortion move pixels and bend the shapes a classifier reads. Edges
in photos keep their direction over many pixels; a warp bends them, so the direction
measured over a wide window agrees less with the one measured over a narrow window. On the
working image (short side <= 224 px). The scene matters too (on one of the four test photos
the value rises under a warp), so the value is a tendency across images, not a per-image
gauge.
"""

from __future__ import annotations

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext

#: Structure-tensor integration scales (Gaussian sigma, working px): fine and wide.
TENSOR_SIGMA_FINE = 1.5
TENSOR_SIGMA_WIDE = 5.0
#: Share of pixels, by wide-scale gradient energy, where coherence is compared.
EDGE_SHARE = 0.15

COLUMNS = (
    Column("warp_coherence_ratio", "ratio", "[0, ~1.2]", "lower",
           "Mean structure-tensor coherence at integration sigma 5 px over that at 1.5 px, on "
           "the 15% of pixels with the most gradient energy: edges that keep their direction "
           "over 10 px read higher, bent ones lower.",
           low="edges more bent than usual", high="edges straighter than usual"),
)

def coherence(blurred: np.ndarray) -> np.ndarray:
    """Structure-tensor coherence (0 isotropic, 1 one direction) of blurred tensor products.

    ``blurred`` holds Gaussian-blurred gx*gx, gy*gy and gx*gy in its last axis, one row per
    pixel.
    """
    jxx, jyy, jxy = blurred[..., 0], blurred[..., 1], blurred[..., 2]
    return np.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / (jxx + jyy + 1e-3)


def coherence_ratio(gx: np.ndarray, gy: np.ndarray) -> float:
    """Wide-scale over fine-scale coherence where the gradient energy is highest."""
    products = cv2.merge([gx * gx, gy * gy, gx * gy])
    wide = cv2.GaussianBlur(products, (0, 0), TENSOR_SIGMA_WIDE)
    energy = wide[..., 0] + wide[..., 1]
    cut = np.quantile(energy, 1 - EDGE_SHARE)
    mask = energy >= cut
    if cut <= 0 or not mask.any():
        return 1.0
    fine = cv2.GaussianBlur(products, (0, 0), TENSOR_SIGMA_FINE)
    # coherence only where it is averaged: the strongest 15% of pixels
    return float(coherence(wide[mask]).mean() / max(float(coherence(fine[mask]).mean()), 1e-6))


def compute(ctx: ImageContext) -> dict[str, float]:
    """Warp measures of one image."""
    gx, gy, _ = ctx.gradients
    return {
        "warp_coherence_ratio": coherence_ratio(gx, gy),
    }
