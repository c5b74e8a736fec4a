"""CIFAR-10 benchmark: a small CPU-trained CNN and its outcomes on degraded test images.

The archive ``cifar10-jpeg.tar.gz`` (CIFAR-10 by Krizhevsky, Nair and Hinton, re-encoded as
32 x 32 JPEG files, see ``../shared/datasets/README.md``) is unpacked once into a cache
folder outside the repository (:mod:`featrisk.bench.cifar_data`). :func:`train_cnn`
(:mod:`featrisk.bench.cifar_cnn`) trains a compact convolutional network on
the 50,000 training images with the CPU build of PyTorch and measures its clean accuracy on
all 10,000 test images. :func:`build_cifar` draws a seeded, class-stratified sample of test
images, writes each clean image and several degraded variants (:mod:`featrisk.degrade`) as
JPEG files, classifies every file *as read back from disk* and writes one row per file to
``outcomes.csv``. That table is the ground truth for predicting classifier failures from
image statistics: a second, independent classifier next to the ImageNet one in
:mod:`featrisk.bench.classifiers`. State the CNN's measured accuracy wherever its outcomes
are reported.

Class order (``true_class`` and ``pred_class``, columns of ``probs.npy``) is the standard
CIFAR-10 order, :data:`CLASSES`: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog,
6 frog, 7 horse, 8 ship, 9 truck.

PyTorch is imported only inside the functions that need it (optional extra
``featrisk[bench]``); the core package never imports this module.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from featrisk import degrade
from featrisk.bench.cifar_cnn import CNN_WIDTHS as CNN_WIDTHS  # re-exported for bench.signals, tests
from featrisk.bench.cifar_cnn import _build_cnn as _build_cnn
from featrisk.bench.cifar_cnn import _to_input as _to_input
from featrisk.bench.cifar_cnn import import_torch, load_cnn, predict_probs, train_cnn
from featrisk.bench.cifar_data import CLASSES, load_split, unpack_cifar
from featrisk.bench.cifar_data import IMAGE_SIDE as IMAGE_SIDE
from featrisk.bench.classifiers import softmax_scores
from featrisk.errors import FeatriskError
from featrisk.io import read_image

__all__ = [
    "CLASSES",
    "build_cifar",
    "load_cnn",
    "load_split",
    "plan_variants",
    "predict_probs",
    "stratified_sample",
    "train_cnn",
    "unpack_cifar",
]

#: JPEG quality of every outcome-set file, clean or degraded, written with ``cv2.imwrite``.
OUTCOME_JPEG_QUALITY = 95


def stratified_sample(labels: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """Seeded sample of ``n`` indices with class shares as equal as the counts allow.

    Each class gets ``n // k`` items and the first ``n % k`` classes one more (``k`` =
    number of classes present); returns sorted indices. Raises ValueError if ``n`` is not
    in [1, len(labels)] or a class has too few items.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if not 1 <= n <= len(labels):
        raise ValueError(f"n must be in [1, {len(labels)}]; received {n}")
    rng = np.random.default_rng(seed)
    quota = np.full(len(classes), n // len(classes)) + (np.arange(len(classes)) < n % len(classes))
    picked = []
    for c, q in zip(classes, quota, strict=True):
        members = np.flatnonzero(labels == c)
        if q > len(members):
            raise ValueError(f"n={n} needs {q} images of class {c}; only {len(members)} exist")
        picked.append(rng.choice(members, size=q, replace=False))
    return np.sort(np.concatenate(picked))


def plan_variants(source_ids: np.ndarray, *, variants_per_image: int = 7, seed: int = 0) -> pd.DataFrame:
    """Seeded plan of one clean row and ``variants_per_image`` degraded rows per source.

    Families are drawn without replacement per source from the 23 of
    :data:`featrisk.degrade.FAMILIES_23` (the families added since would reshuffle every
    draw, so the set stays the one its figures were measured on), severities uniformly from
    1-5, and each degraded row gets its own ``degrade_seed``.
    ``file_index`` is a seeded permutation of the row numbers, so file names reveal neither
    the source nor the degradation.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_pos`` (position in ``source_ids``), ``source_id``,
        ``degradation`` (``"none"`` for clean), ``severity`` (0 for clean),
        ``degrade_seed`` and ``file_index``.
    """
    families = degrade.FAMILIES_23
    if not 0 <= variants_per_image <= len(families):
        raise ValueError(f"variants_per_image must be in [0, {len(families)}]; received {variants_per_image}")
    rng = np.random.default_rng([seed, 1])
    rows = []
    for pos, sid in enumerate(source_ids):
        rows.append((pos, str(sid), "none", 0, 0))
        fams = rng.choice(len(families), size=variants_per_image, replace=False)
        sevs = rng.integers(1, 6, size=variants_per_image)
        dseeds = rng.integers(0, 2**31 - 1, size=variants_per_image)
        rows += [(pos, str(sid), families[f], int(s), int(d))
                 for f, s, d in zip(fams, sevs, dseeds, strict=True)]  # fmt: skip
    plan = pd.DataFrame(rows, columns=["source_pos", "source_id", "degradation", "severity",
                                       "degrade_seed"])  # fmt: skip
    plan["file_index"] = rng.permutation(len(plan))
    return plan


def _write_images(images: np.ndarray, plan: pd.DataFrame, folder: Path, progress: bool) -> list:
    """Render every planned row and save it as JPEG q95; return the absolute paths."""
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(len(plan) - 1))
    rows = plan.itertuples(index=False)
    if progress:
        from tqdm import tqdm

        rows = tqdm(rows, total=len(plan), desc="write variants", mininterval=5)
    paths = []
    params = [cv2.IMWRITE_JPEG_QUALITY, OUTCOME_JPEG_QUALITY]
    for r in rows:
        src = images[r.source_pos]
        img = src if r.severity == 0 else degrade.apply(src, r.degradation, r.severity,
                                                        seed=r.degrade_seed)  # fmt: skip
        path = (folder / f"{r.file_index:0{width}d}.jpg").resolve()
        if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params):
            raise FeatriskError(f"{path}: cv2.imwrite failed; check the cache folder.")
        paths.append(str(path))
    return paths


def build_cifar(
    archive: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    n_test: int = 2000,
    variants_per_image: int = 7,
    batch_size: int = 256,
    num_threads: int = 1,
    progress: bool = True,
) -> Path:
    """Build the CIFAR-10 outcome set: degraded test images and the CNN's verdict on each.

    Steps: unpack the archive (once); train the CNN with :func:`train_cnn` unless
    ``cache_dir/cnn.pt`` exists (then reuse it and re-measure its clean accuracy); take a
    class-stratified sample of ``n_test`` test images; for each write the clean image and
    ``variants_per_image`` degraded ones (:func:`plan_variants`) to ``cache_dir/images/`` as
    JPEG quality 95 with ``cv2.imwrite`` (the clean one re-encoded from the decoded
    original, so the file format does not tell clean from degraded); read every file back
    and classify it. The same arguments give the same files and table.

    Parameters
    ----------
    archive : str or os.PathLike
        Path of ``cifar10-jpeg.tar.gz``.
    cache_dir : str or os.PathLike
        Cache folder outside the repository.
    seed : int, default 0
        Seeds the CNN training, the sample, the plan and the degradations.
    n_test : int, default 2000
        Number of test images sampled (equal share per class).
    variants_per_image : int, default 7
        Degraded variants per sampled image (distinct families, 0-23).
    batch_size : int, default 256
        Images per forward pass when classifying.
    num_threads : int, default 1
        ``torch.set_num_threads`` value (process-wide).
    progress : bool, default True
        Print progress.

    Returns
    -------
    pathlib.Path
        ``cache_dir / "outcomes.csv"``: one row per file with ``path`` (absolute),
        ``source_id`` (``"test/cat/0123"``), ``degradation`` (a family of
        :data:`featrisk.degrade.FAMILIES` or ``"none"``), ``severity`` (0 clean, 1-5),
        ``true_class`` and ``pred_class`` (ids in the order of :data:`CLASSES`),
        ``max_prob``, ``margin`` (top-1 minus top-2 probability), ``entropy`` (nats),
        ``gini`` (``1 - sum p**2``) and ``correct`` (bool). Next to it: ``probs.npy``
        (float32, rows in table order, columns in class order) and ``outcomes.json``
        (CNN accuracy and settings).
    """
    cache = Path(cache_dir)
    root = unpack_cifar(archive, cache)
    weights = cache / "cnn.pt"
    torch = import_torch()
    torch.set_num_threads(num_threads)
    if not weights.is_file():
        train_cnn(root, weights, seed=seed, num_threads=num_threads, progress=progress)
    summary_file = weights.with_suffix(".json")
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    model = load_cnn(weights)
    test_x, test_y, test_ids = load_split(root, "test", cache_dir=cache)
    summary["test_accuracy"] = float(np.mean(predict_probs(model, test_x).argmax(1) == test_y))
    chosen = stratified_sample(test_y, n_test, seed=seed)
    plan = plan_variants(test_ids[chosen], variants_per_image=variants_per_image, seed=seed)
    folder = cache / "images"
    shutil.rmtree(folder, ignore_errors=True)
    paths = _write_images(test_x[chosen], plan, folder, progress)
    read_back = np.stack([read_image(Path(p)).rgb for p in paths])
    probs = predict_probs(model, read_back, batch_size=batch_size)
    table = pd.DataFrame({
        "path": paths, "source_id": plan["source_id"], "degradation": plan["degradation"],
        "severity": plan["severity"], "true_class": test_y[chosen][plan["source_pos"]],
    })  # fmt: skip
    table["pred_class"] = probs.argmax(1)
    table = pd.concat([table, softmax_scores(probs)], axis=1)
    table["correct"] = table["pred_class"] == table["true_class"]
    out = cache / "outcomes.csv"
    table.to_csv(out, index=False)
    np.save(cache / "probs.npy", probs, allow_pickle=False)
    meta = {"cnn": summary, "seed": seed, "n_test": n_test, "classes": list(CLASSES),
            "variants_per_image": variants_per_image, "n_rows": len(table),
            "outcome_accuracy": float(table["correct"].mean())}  # fmt: skip
    (cache / "outcomes.json").write_text(json.dumps(meta, indent=2))
    return out
