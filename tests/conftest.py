"""Shared fixtures: real photos shipped inside scikit-image's wheel, written to disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

#: Colour photos that ship inside scikit-image's wheel (no download).
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
IMAGENET = SHARED / "imagenet-sample-dev"


def photo(name: str) -> np.ndarray:
    """RGB uint8 photo from scikit-image's data folder."""
    return getattr(skimage.data, name)()


def write_rgb(path: Path, rgb: np.ndarray, **params: int) -> Path:
    """Write an RGB array with OpenCV (PNG or JPEG by suffix); return the path."""
    flags = []
    if path.suffix.lower() in (".jpg", ".jpeg"):
        flags = [cv2.IMWRITE_JPEG_QUALITY, params.get("quality", 95)]
    ok = cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), flags)
    if not ok:
        raise OSError(f"could not write {path}")
    return path


@pytest.fixture(scope="session")
def photo_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The four scikit-image photos as JPEG files (quality 95)."""
    folder = tmp_path_factory.mktemp("photos")
    return [write_rgb(folder / f"{n}.jpg", photo(n)) for n in PHOTOS]


@pytest.fixture(scope="session")
def imagenet_paths() -> list[Path]:
    """The shared ImageNet dev photos; skips when the shared folder is absent."""
    if not IMAGENET.is_dir():
        pytest.skip(f"{IMAGENET} is absent (the shared datasets are read at run time only)")
    return sorted(IMAGENET.glob("*.JPEG"))


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory: pytest.TempPathFactory):
    """The embedded demo set: features and real EfficientNet-Lite0 outcomes (row-aligned)."""
    from featrisk.demo import demo_dataset

    folder = tmp_path_factory.mktemp("demo")
    features, outcomes = demo_dataset(folder / "images", n_jobs=2)
    return folder, features, outcomes
