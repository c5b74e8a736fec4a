"""The CIFAR-10 JPEG archive: unpacked once into a cache folder, each split decoded to arrays.

``cifar10-jpeg.tar.gz`` (CIFAR-10 by Krizhevsky, Nair and Hinton, re-encoded as 32 x 32 JPEG
files, see ``../shared/datasets/README.md``) holds ``cifar10-jpeg/{train,test}/<class>/*.jpg``;
:func:`unpack_cifar` extracts it safely, :func:`load_split` decodes a split once and caches it
as ``.npy``. Class order is the standard CIFAR-10 order, :data:`CLASSES`.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import numpy as np

from featrisk.errors import DecodeError, FeatriskError
from featrisk.io import read_image

#: CIFAR-10 class names in the standard label order (index = class id).
CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
#: Folder at the top of the archive.
ARCHIVE_ROOT = "cifar10-jpeg"
#: Side of every CIFAR-10 image, in pixels.
IMAGE_SIDE = 32


def unpack_cifar(archive: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> Path:
    """Extract the CIFAR-10 JPEG archive into ``cache_dir`` once and return its root.

    Every member is checked before anything is written: only regular files and folders
    whose resolved path stays inside ``cache_dir`` are accepted (no links, devices,
    absolute paths or ``..``). Extraction goes to a temporary folder that is renamed into
    place when complete, so an interrupted run never leaves a half-filled root.

    Parameters
    ----------
    archive : str or os.PathLike
        Path of ``cifar10-jpeg.tar.gz``.
    cache_dir : str or os.PathLike
        Folder outside the repository; created if missing.

    Returns
    -------
    pathlib.Path
        ``cache_dir / "cifar10-jpeg"``, holding ``train/<class>/NNNN.jpg`` (50,000 files)
        and ``test/<class>/NNNN.jpg`` (10,000 files).

    Raises
    ------
    FileNotFoundError
        If ``archive`` does not exist.
    FeatriskError
        If the archive has unsafe members (all listed) or no ``cifar10-jpeg/`` folder.
    """
    archive, cache = Path(archive), Path(cache_dir)
    root = cache / ARCHIVE_ROOT
    if (root / "test").is_dir() and (root / "train").is_dir():
        return root
    if not archive.is_file():
        raise FileNotFoundError(
            f"{archive}: CIFAR-10 archive not found; expected the file "
            f"cifar10-jpeg.tar.gz from ../shared/datasets."
        )
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".unpack-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        bad = _unsafe_members(members, staging)
        if bad:
            raise FeatriskError(
                f"{archive}: refusing to extract {len(bad)} unsafe member(s) "
                f"(links, devices or paths leaving the folder): {bad[:20]}"
            )
        tar.extractall(staging, members=members, filter="data")
    if not (staging / ARCHIVE_ROOT).is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        raise FeatriskError(
            f"{archive}: no top-level folder {ARCHIVE_ROOT!r} in the archive; is this cifar10-jpeg.tar.gz?"
        )
    (staging / ARCHIVE_ROOT).rename(root)
    shutil.rmtree(staging, ignore_errors=True)
    return root


def _unsafe_members(members: list[tarfile.TarInfo], dest: Path) -> list[str]:
    """Names of members that are not plain files/folders inside ``dest``."""
    base = dest.resolve()
    bad = []
    for m in members:
        target = (base / m.name).resolve()
        inside = target.is_relative_to(base) and (target != base or m.isdir())
        if not (m.isfile() or m.isdir()) or not inside:
            bad.append(m.name)
    return bad


def load_split(
    root: str | os.PathLike[str], split: str, *, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode every image of one split into memory, cached as ``.npy`` after the first call.

    Parameters
    ----------
    root : str or os.PathLike
        The ``cifar10-jpeg`` folder returned by :func:`unpack_cifar`.
    split : {"train", "test"}
        Which split to load.
    cache_dir : str or os.PathLike, optional
        Where ``<split>_images.npy``, ``<split>_labels.npy`` and ``<split>_ids.npy`` are
        kept; default ``root``'s parent.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` RGB array of shape ``(n, 32, 32, 3)``, ordered by class then file name.
    labels : numpy.ndarray
        ``int64`` class ids in [0, 9] (order of :data:`CLASSES`).
    ids : numpy.ndarray
        Source ids such as ``"test/cat/0123"`` (str).

    Raises
    ------
    ValueError
        If ``split`` is not ``"train"`` or ``"test"``.
    DecodeError
        If a file cannot be decoded or is not 32 x 32 RGB (all offenders listed).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; received {split!r}")
    root = Path(root)
    cache = Path(cache_dir) if cache_dir is not None else root.parent
    files = [cache / f"{split}_{part}.npy" for part in ("images", "labels", "ids")]
    if all(f.is_file() for f in files):
        return tuple(np.load(f, allow_pickle=False) for f in files)  # type: ignore[return-value]
    paths = [(k, p) for k, name in enumerate(CLASSES)
             for p in sorted((root / split / name).glob("*.jpg"))]  # fmt: skip
    images = np.empty((len(paths), IMAGE_SIDE, IMAGE_SIDE, 3), dtype=np.uint8)
    bad = []
    for i, (_, path) in enumerate(paths):
        rgb = read_image(path).rgb
        if rgb.shape != images.shape[1:]:
            bad.append(f"{path} {rgb.shape}")
            continue
        images[i] = rgb
    if bad or not paths:
        raise DecodeError(
            f"{root / split}: {len(bad)} file(s) not 32x32 RGB (or no files): "
            f"{bad[:20]}; re-unpack the archive."
        )
    labels = np.array([k for k, _ in paths], dtype=np.int64)
    ids = np.array([f"{split}/{p.parent.name}/{p.stem}" for _, p in paths])
    cache.mkdir(parents=True, exist_ok=True)
    for f, arr in zip(files, (images, labels, ids), strict=True):
        np.save(f, arr, allow_pickle=False)
    return images, labels, ids
