"""Realistic, seeded image degradations at severities 1-5.

Fourteen corruption families in the spirit of ImageNet-C (Hendrycks & Dietterich, 2019,
"Benchmarking Neural Network Robustness to Common Corruptions and Perturbations", ICLR),
and thirteen more from :mod:`featrisk.damage` (warps, zoom and glass blur, fog, snow,
speckle, resampling, WebP, posterisation, rain, spatter, shadows, grid masks), used by the
tests, the demo and the benchmark to make images a classifier gets wrong. The table below
covers the first fourteen; the others are tabled in :mod:`featrisk.damage`.
Core featrisk modules never import this package. Written with OpenCV and numpy only: the
families by kind in :mod:`~featrisk.degrade.blur`, :mod:`~featrisk.degrade.noise`,
:mod:`~featrisk.degrade.digital`, :mod:`~featrisk.degrade.tone` and :mod:`~featrisk.degrade.scene`,
each with its severity table; the registry, :func:`apply` and :func:`compose` here.

``apply(image, family, severity, seed=seed)`` takes an HxWx3 uint8 RGB array and returns a
new array of the same shape and dtype; the input is never modified. Severity 0 is the
identity (a copy); 1 is mild and 5 usually breaks an ImageNet classifier. The same image,
family, severity and seed give a bit-identical result, and every random draw of a family
is independent of the severity, so for one seed the damage grows smoothly from 1 to 5.

Parameters per severity
-----------------------
Spatial values are in pixels at a reference short side of 224 px (see below).

==============  ==========================================  =====  =====  =====  =====  =====
family          parameter                                   1      2      3      4      5
==============  ==========================================  =====  =====  =====  =====  =====
gaussian_blur   sigma, px (spatial)                         1      2      3      4      6
gaussian_blur   floor of sigma, px                          0.4    0.6    0.8    1.0    1.3
motion_blur     line kernel length, px (spatial)            6      10     15     21     30
motion_blur     floor of length, px; angle ~ U[0, 180) deg  2      3      4      5      6
gaussian_noise  sigma, 0-255 units (grain)                  20     31     46     66     97
shot_noise      photons at white, Poisson (grain)           60     25     12     5      3
salt_pepper     fraction of pixels set black/white (grain)  0.03   0.06   0.10   0.17   0.27
jpeg            JPEG quality, OpenCV 4:2:0 (not scaled)     80     50     30     15     7
underexposure   out = gain * x ** gamma, x in [0, 1]: gamma 1.2    1.4    1.7    2.0    2.4
underexposure   gain                                        0.8    0.65   0.5    0.35   0.25
overexposure    exposure stops in linear light (sRGB 2.2)   0.5    1.0    1.5    2.0    3.0
contrast        kept fraction of deviation from the mean    0.5    0.35   0.2    0.1    0.05
haze            scattering beta; t = exp(-beta * depth)     0.25   0.5    0.8    1.15   1.6
occlusion       share of the area covered by 1-3 patches    0.05   0.10   0.18   0.28   0.40
pixelate        block size, px (spatial)                    1.67   2      2.5    3.33   4
pixelate        floor of block size, px                     1.2    1.45   1.9    2.5    3.2
color_cast      norm of per-channel log-gain tint           0.1    0.2    0.35   0.5    0.7
vignette        darkening at the corners, 1 - k * r**2      0.2    0.35   0.5    0.65   0.8
==============  ==========================================  =====  =====  =====  =====  =====

Random draws: motion_blur the angle; the noise families the noise; haze a smooth depth
field (a 4x4 random grid, bicubic-upsampled, depth 0.5-1.5) and a grey-white airlight of
level U[0.80, 0.95] with a +-0.03 tint per channel; occlusion the patch count, shapes
(aspect 0.5-2), places and fills (flat colour, smooth random texture with fine noise, or a
flipped and shifted copy of the image itself standing in for another image); color_cast a
zero-sum log-gain direction. gaussian_blur, jpeg, underexposure, overexposure, contrast,
pixelate and vignette are deterministic.

Size scaling
------------
With ``s = min(H, W) / 224``, a *spatial* parameter is ``max(value * s, floor)``: a 448 px
photo gets twice the blur of a 224 px one, so after the usual resize to 224 px a severity
means the same on a 224 px, a 500x375 and a 2000 px image. The floors (close to CIFAR-10-C
at 32 px) keep a visible effect on small images, where ``value * s`` would vanish. *Grain*
families draw their noise on square cells of ``max(1, s)`` px (nearest-neighbour
upsampled), so a resize to 224 px brings back the tabled noise level; below 224 px every
pixel is its own cell. Occlusion covers a share of the area, and the other families act
per pixel, so they need no scaling. JPEG's 8x8 blocks cannot scale and hurt a 32 px image
more than a large one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from featrisk import damage
from featrisk.degrade import blur, digital, noise, scene, tone
from featrisk.degrade._common import DegradeFn
from featrisk.degrade.blur import MOTION_LENGTH as MOTION_LENGTH  # read from here by tests

__all__ = ["CORE_FAMILIES", "FAMILIES", "FAMILIES_23", "REGISTRY", "SEVERITIES", "apply",
           "compose"]

#: The first fourteen families, defined in this package; :mod:`featrisk.damage` adds thirteen.
CORE_FAMILIES: tuple[str, ...] = (
    "gaussian_blur", "motion_blur", "gaussian_noise", "shot_noise", "salt_pepper",
    "jpeg", "underexposure", "overexposure", "contrast", "haze", "occlusion",
    "pixelate", "color_cast", "vignette",
)  # fmt: skip
#: Every family, the new ones last (so seeds drawn by position keep the older rows).
FAMILIES: tuple[str, ...] = CORE_FAMILIES + damage.FAMILIES
#: The 23 families of the outcome sets built before rain, spatter, shadow and grid_mask.
FAMILIES_23: tuple[str, ...] = FAMILIES[:23]
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)


REGISTRY: Mapping[str, DegradeFn] = MappingProxyType({
    "gaussian_blur": blur.gaussian_blur, "motion_blur": blur.motion_blur,
    "gaussian_noise": noise.gaussian_noise, "shot_noise": noise.shot_noise,
    "salt_pepper": noise.salt_pepper, "jpeg": digital.jpeg, "underexposure": tone.underexposure,
    "overexposure": tone.overexposure, "contrast": tone.contrast, "haze": scene.haze,
    "occlusion": scene.occlusion, "pixelate": digital.pixelate, "color_cast": tone.color_cast,
    "vignette": tone.vignette, **damage.REGISTRY,
})  # fmt: skip
"""Family name -> ``(image, severity, rng) -> image`` function, in ``FAMILIES`` order."""


# --------------------------------------------------------------------------- public API
def _check_image(image: object) -> None:
    """Raise ValueError unless ``image`` is a non-empty HxWx3 uint8 array."""
    if (not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3
            or image.dtype != np.uint8 or image.size == 0):  # fmt: skip
        received = (f"shape {image.shape} and dtype {image.dtype}"
                    if isinstance(image, np.ndarray) else type(image).__name__)  # fmt: skip
        raise ValueError(
            f"image must be a non-empty HxWx3 uint8 RGB numpy array; received {received}. "
            "Convert with np.asarray(...) and drop any alpha channel first."
        )


def apply(image: np.ndarray, family: str, severity: int, *, seed: int = 0) -> np.ndarray:
    """Degrade an RGB image with one corruption family at one severity.

    Parameters
    ----------
    image : numpy.ndarray
        HxWx3 uint8 RGB image, values 0-255. Not modified.
    family : str
        One of ``FAMILIES``; see the module docstring for what each does.
    severity : int
        0 (identity, returns a copy) or 1-5, from mild to usually classifier-breaking.
    seed : int, default 0
        Seed of the local ``numpy.random.Generator`` used for the random draws; the same
        inputs and seed give a bit-identical result.

    Returns
    -------
    numpy.ndarray
        New HxWx3 uint8 RGB array of the same shape as ``image``.

    Raises
    ------
    ValueError
        If ``family`` or ``severity`` is not an allowed value, or ``image`` is not a
        non-empty HxWx3 uint8 array.
    """
    if not isinstance(family, str) or family not in REGISTRY:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}; received {family!r}.")
    if (isinstance(severity, bool) or not isinstance(severity, (int, np.integer))
            or severity not in (0, *SEVERITIES)):  # fmt: skip
        raise ValueError(
            f"severity must be an integer in 0-5 (0 = no degradation, 1 mild ... 5 severe); "
            f"received {severity!r}."
        )
    _check_image(image)
    if severity == 0:
        return image.copy()
    return REGISTRY[family](image, int(severity), np.random.default_rng(seed))


def compose(image: np.ndarray, damages: list[tuple[str, int]], *, seed: int = 0) -> np.ndarray:
    """Degrade an RGB image with several families in turn, as real damage stacks up.

    ``compose(image, [("haze", 2), ("jpeg", 4)], seed=s)`` applies haze at severity 2, then
    JPEG at 4 to the result; step i draws with seed ``seed + i``, so a one-step composition
    equals :func:`apply` with the same seed. Order matters (noise then blur is not blur then
    noise). Arguments are checked as in :func:`apply`; an empty list returns a copy.
    """
    if not isinstance(damages, list | tuple):
        raise ValueError(f"damages must be a list of (family, severity) pairs; received "
                         f"{type(damages).__name__}")
    _check_image(image)
    out = image.copy()
    for i, step in enumerate(damages):
        if not isinstance(step, tuple | list) or len(step) != 2:
            raise ValueError(f"damages[{i}] must be a (family, severity) pair; received {step!r}")
        out = apply(out, step[0], step[1], seed=seed + i)
    return out
