"""Tests of featrisk.degrade on real photos shipped with scikit-image (no network).

Every family is applied at severities 1-5 to four photos (300-640 px) and to a 32x32
CIFAR-sized copy of one, and each test asserts a direction a user would check.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import pytest
import skimage.data

from featrisk import degrade

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
IMAGES = (*PHOTOS, "chelsea32")
RANDOM_FAMILIES = frozenset(
    {"motion_blur", "gaussian_noise", "shot_noise", "salt_pepper", "haze", "occlusion",
     "color_cast", "elastic", "glass_blur", "fog", "snow", "speckle_noise", "rain", "spatter",
     "shadow", "grid_mask"}
)  # fmt: skip


@cache
def _image(name: str) -> np.ndarray:
    """Return a read-only test image; ``chelsea32`` is chelsea area-resized to 32x32."""
    if name == "chelsea32":
        image = cv2.resize(skimage.data.chelsea(), (32, 32), interpolation=cv2.INTER_AREA)
    else:
        image = getattr(skimage.data, name)()
    image.flags.writeable = False  # any in-place write by a family raises
    return image


@cache
def _series(name: str, family: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Return the image degraded at severities 1-5 (computed once per test session)."""
    return tuple(degrade.apply(_image(name), family, s, seed=seed) for s in degrade.SEVERITIES)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _mean_abs_diff(image: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(image.astype(np.float64) - reference).mean())


def _laplacian_var(image: np.ndarray) -> float:
    return float(cv2.Laplacian(_grey(image), cv2.CV_64F).var())


def _luminance(image: np.ndarray) -> float:
    return float(_grey(image).mean())


def _corner_luminance(image: np.ndarray) -> float:
    h, w = max(1, image.shape[0] // 8), max(1, image.shape[1] // 8)
    grey = _grey(image).astype(np.float64)
    return float(np.mean([grey[:h, :w], grey[:h, -w:], grey[-h:, :w], grey[-h:, -w:]]))


def _std(image: np.ndarray) -> float:
    return float(image.astype(np.float64).std())


def _noise_residual(image: np.ndarray) -> float:
    grey = _grey(image)
    return float(np.abs(grey.astype(np.float64) - cv2.medianBlur(grey, 3)).mean())


def _blockiness(image: np.ndarray) -> float:
    """Fraction of horizontally and vertically adjacent pixel pairs that are identical."""
    same_x = (image[:, 1:] == image[:, :-1]).all(axis=-1)
    same_y = (image[1:] == image[:-1]).all(axis=-1)
    return float((same_x.sum() + same_y.sum()) / (same_x.size + same_y.size))


def _chromaticity_shift(image: np.ndarray, reference: np.ndarray) -> float:
    def chroma(x: np.ndarray) -> np.ndarray:
        means = x.reshape(-1, 3).astype(np.float64).mean(axis=0)
        return means / means.sum()

    return float(np.abs(chroma(image) - chroma(reference)).sum())


def _changed_fraction(image: np.ndarray, reference: np.ndarray) -> float:
    return float((image != reference).any(axis=-1).mean())


def _visibly_changed(image: np.ndarray, reference: np.ndarray) -> float:
    """Share of pixels whose largest channel change exceeds 12 levels."""
    return float((np.abs(image.astype(np.float64) - reference).max(axis=-1) > 12).mean())


# family -> (measure(degraded, clean), +1 if it rises with severity, -1 if it falls)
FAMILY_MEASURES = {
    "gaussian_blur": (lambda x, _: _laplacian_var(x), -1),
    "motion_blur": (lambda x, _: _laplacian_var(x), -1),
    # Mild nearest-neighbour pixelation adds block edges, which raises the Laplacian
    # variance at native resolution; the share of identical neighbours is the honest signal.
    "pixelate": (lambda x, _: _blockiness(x), +1),
    "gaussian_noise": (lambda x, _: _noise_residual(x), +1),
    "shot_noise": (lambda x, _: _noise_residual(x), +1),
    "salt_pepper": (_changed_fraction, +1),
    "underexposure": (lambda x, _: _luminance(x), -1),
    "overexposure": (lambda x, _: _luminance(x), +1),
    "contrast": (lambda x, _: _std(x), -1),
    "haze": (lambda x, _: _std(x), -1),
    "occlusion": (_changed_fraction, +1),
    "color_cast": (_chromaticity_shift, +1),
    "vignette": (lambda x, _: _corner_luminance(x), -1),
    "speckle_noise": (lambda x, _: _noise_residual(x), +1),
    "resample": (lambda x, _: _laplacian_var(x), -1),
    "fog": (lambda x, _: float(x.min(axis=2).mean()), +1),  # a white veil lifts the darkest channel
    "snow": (lambda x, _: float((x.min(axis=2) > 230).mean()), +1),  # share of near-white pixels
    "rain": (_visibly_changed, +1),
    "spatter": (_visibly_changed, +1),
    "shadow": (lambda x, _: _luminance(x), -1),
    "grid_mask": (lambda x, _: float((x.max(axis=2) == 0).mean()), +1),  # share of black pixels
}

CASES = [(name, family) for family in degrade.FAMILIES for name in IMAGES]
CASE_IDS = [f"{family}-{name}" for name, family in CASES]
MEASURED = [(n, f) for n, f in CASES if f in FAMILY_MEASURES]
MEASURED_IDS = [f"{family}-{name}" for name, family in MEASURED]


def test_registry_follows_families_order() -> None:
    assert tuple(degrade.REGISTRY) == degrade.FAMILIES
    assert len(degrade.FAMILIES) == 27
    assert degrade.FAMILIES[:14] == degrade.CORE_FAMILIES  # new families last: old seeds hold
    assert degrade.SEVERITIES == (1, 2, 3, 4, 5)
    assert all(callable(fn) for fn in degrade.REGISTRY.values())


@pytest.mark.parametrize(("name", "family"), CASES, ids=CASE_IDS)
def test_contract(name: str, family: str) -> None:
    image = _image(name)
    before = image.copy()
    series = _series(name, family)
    for out in series:
        assert out.dtype == np.uint8
        assert out.shape == image.shape
        assert not np.shares_memory(out, image)
    np.testing.assert_array_equal(image, before)
    np.testing.assert_array_equal(degrade.apply(image, family, 5, seed=0), series[-1])


@pytest.mark.parametrize("family", degrade.FAMILIES, ids=degrade.FAMILIES)
def test_seed_changes_only_random_families(family: str) -> None:
    image = _image("chelsea")
    a = degrade.apply(image, family, 3, seed=0)
    b = degrade.apply(image, family, 3, seed=1)
    assert (not np.array_equal(a, b)) == (family in RANDOM_FAMILIES)


@pytest.mark.parametrize(("name", "family"), CASES, ids=CASE_IDS)
def test_difference_to_clean_rises_with_severity(name: str, family: str) -> None:
    image = _image(name)
    diffs = [_mean_abs_diff(out, image) for out in _series(name, family)]
    assert diffs[0] > 0.5, f"severity 1 barely changes the image: {diffs[0]:.3f}"
    assert np.all(np.diff(diffs) > 0), f"mean |difference| not rising: {np.round(diffs, 2)}"


@pytest.mark.parametrize(("name", "family"), MEASURED, ids=MEASURED_IDS)
def test_family_measure_moves_with_severity(name: str, family: str) -> None:
    measure, direction = FAMILY_MEASURES[family]
    image = _image(name)
    values = [measure(image, image), *(measure(out, image) for out in _series(name, family))]
    steps = direction * np.diff(values)
    assert np.all(steps > 0), f"{family} measure not monotone (clean, 1..5): {values}"


@pytest.mark.parametrize("name", IMAGES, ids=IMAGES)
def test_occlusion_covers_the_documented_share(name: str) -> None:
    image = _image(name)
    shares = [_changed_fraction(out, image) for out in _series(name, "occlusion")]
    assert 0.02 <= shares[0] <= 0.07
    assert 0.25 <= shares[-1] <= 0.42


def test_vignette_darkens_corners_more_than_centre() -> None:
    image = _image("coffee")
    out = degrade.apply(image, "vignette", 5)
    h, w = image.shape[:2]
    centre = (slice(h // 2 - 10, h // 2 + 10), slice(w // 2 - 10, w // 2 + 10))
    centre_drop = _luminance(image[centre]) - _luminance(out[centre])
    corner_drop = _corner_luminance(image) - _corner_luminance(out)
    assert centre_drop < 1.0 < corner_drop


@pytest.mark.parametrize(
    "family",
    ["gaussian_blur", "motion_blur", "gaussian_noise", "salt_pepper", "pixelate"],
    ids=["gaussian_blur", "motion_blur", "gaussian_noise", "salt_pepper", "pixelate"],
)
def test_severity_means_the_same_at_224_and_448_px(family: str) -> None:
    photo = skimage.data.astronaut()  # 512x512
    small = cv2.resize(photo, (224, 224), interpolation=cv2.INTER_AREA)
    large = cv2.resize(photo, (448, 448), interpolation=cv2.INTER_AREA)
    for severity in (1, 3, 5):
        at_224 = _mean_abs_diff(degrade.apply(small, family, severity), small)
        seen_at_224 = cv2.resize(degrade.apply(large, family, severity), (224, 224),
                                 interpolation=cv2.INTER_AREA)  # fmt: skip
        ratio = _mean_abs_diff(seen_at_224, small) / at_224
        assert 0.75 < ratio < 1.33, f"severity {severity}: 448/224 damage ratio {ratio:.2f}"


def test_severity_zero_is_a_copy() -> None:
    image = _image("rocket")
    out = degrade.apply(image, "haze", 0)
    np.testing.assert_array_equal(out, image)
    assert not np.shares_memory(out, image)


@pytest.mark.parametrize(
    "image",
    [np.zeros((1, 1, 3), np.uint8), np.full((2, 3, 3), 200, np.uint8),
     np.full((32, 32, 3), 128, np.uint8), np.full((40, 7, 3), 255, np.uint8)],
    ids=["1x1-black", "2x3-light", "32x32-grey", "40x7-white"],
)  # fmt: skip
def test_degenerate_images_keep_shape_and_dtype(image: np.ndarray) -> None:
    for family in degrade.FAMILIES:
        for severity in degrade.SEVERITIES:
            out = degrade.apply(image, family, severity, seed=3)
            assert (out.shape, out.dtype) == (image.shape, np.uint8), (family, severity)


@pytest.mark.parametrize("family", ["frost", "Gaussian_Blur", "", None], ids=repr)
def test_unknown_family_raises(family: object) -> None:
    with pytest.raises(ValueError, match=r"family must be one of gaussian_blur, .*grid_mask; "
                                         r"received"):  # fmt: skip
        degrade.apply(_image("chelsea32"), family, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("severity", [6, -1, 2.5, "3", True, None], ids=repr)
def test_invalid_severity_raises(severity: object) -> None:
    with pytest.raises(ValueError, match=r"severity must be an integer in 0-5 .*received"):
        degrade.apply(_image("chelsea32"), "jpeg", severity)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "image",
    [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 3)),
     np.zeros((0, 8, 3), np.uint8), [[[0, 0, 0]]]],
    ids=["grey-2d", "rgba", "float64", "empty", "list"],
)  # fmt: skip
def test_invalid_image_raises(image: object) -> None:
    with pytest.raises(ValueError, match=r"image must be a non-empty HxWx3 uint8 RGB"):
        degrade.apply(image, "jpeg", 1)  # type: ignore[arg-type]


def test_compose_applies_each_damage_in_turn() -> None:
    image = np.ascontiguousarray(skimage.data.astronaut()[:128, :128])
    one = degrade.compose(image, [("gaussian_noise", 3)], seed=7)
    np.testing.assert_array_equal(one, degrade.apply(image, "gaussian_noise", 3, seed=7))
    both = degrade.compose(image, [("gaussian_noise", 3), ("gaussian_blur", 2)], seed=7)
    expected = degrade.apply(degrade.apply(image, "gaussian_noise", 3, seed=7),
                             "gaussian_blur", 2, seed=8)
    np.testing.assert_array_equal(both, expected)
    flipped = degrade.compose(image, [("gaussian_blur", 2), ("gaussian_noise", 3)], seed=7)
    assert not np.array_equal(both, flipped)  # order matters: blur smooths the noise first
    np.testing.assert_array_equal(degrade.compose(image, [], seed=1), image)
    with pytest.raises(ValueError, match=r"damages\[1\] must be a \(family, severity\) pair"):
        degrade.compose(image, [("jpeg", 2), "blur"])
    with pytest.raises(ValueError, match="family must be one of"):
        degrade.compose(image, [("smudge", 2)])
