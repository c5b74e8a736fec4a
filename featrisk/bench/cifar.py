"""CIFAR-10 benchmark: a small CPU-trained CNN and its outcomes on degraded test images.

The archive ``cifar10-jpeg.tar.gz`` (CIFAR-10 by Krizhevsky, Nair and Hinton, re-encoded as
32 x 32 JPEG files, see ``../shared/datasets/README.md``) is unpacked once into a cache
folder outside the repository. :func:`train_cnn` trains a compact convolutional network on
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
import tarfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from featrisk import degrade
from featrisk.bench.classifiers import softmax_scores
from featrisk.errors import DecodeError, FeatriskError
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

#: CIFAR-10 class names in the standard label order (index = class id).
CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
#: Folder at the top of the archive.
ARCHIVE_ROOT = "cifar10-jpeg"
#: Side of every CIFAR-10 image, in pixels.
IMAGE_SIDE = 32
#: JPEG quality of every outcome-set file, clean or degraded, written with ``cv2.imwrite``.
OUTCOME_JPEG_QUALITY = 95
#: Per-channel RGB mean and standard deviation of CIFAR-10 train (pixel values in [0, 1]).
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
#: CNN widths of the three stages (about 0.28 M parameters) and training hyper-parameters.
CNN_WIDTHS = (32, 64, 128)
CROP_PADDING = 4
MAX_LR = 0.2
WEIGHT_DECAY = 5e-4
LABEL_SMOOTHING = 0.1
TRAIN_BATCH = 256
EVAL_BATCH = 500

_EXTRA_HINT = "install the optional extra with `pip install featrisk[bench]` (torch CPU build)"


def _import_torch():
    """Import torch or raise an ImportError naming the pip extra."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"featrisk.bench.cifar needs PyTorch: {_EXTRA_HINT}.") from exc
    return torch


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


def _build_cnn(torch, *, dropout: float = 0.0, conv_dropout: float = 0.0):
    """Three-stage VGG-style CNN: conv-BN-ReLU blocks, max pooling, global max pool.

    ``conv_dropout`` > 0 adds ``nn.Dropout2d`` (whole feature maps) after each of the three
    pooling stages; ``dropout`` > 0 adds ``nn.Dropout`` on the 128 pooled features before
    the final linear layer. With both 0 (the default) the network is exactly the one
    without dropout, module for module, so its saved weights load unchanged.
    """
    nn = torch.nn
    for name, rate in (("dropout", dropout), ("conv_dropout", conv_dropout)):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{name} must be in [0, 1); received {rate!r}")

    def block(c_in: int, c_out: int, pool: bool) -> list:
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                  nn.ReLU(inplace=True)]  # fmt: skip
        if not pool:
            return layers
        return layers + [nn.MaxPool2d(2)] + ([nn.Dropout2d(conv_dropout)] if conv_dropout else [])

    a, b, c = CNN_WIDTHS
    head = ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(c, len(CLASSES))]
    return nn.Sequential(
        *block(3, a, True),  # 32 -> 16 px
        *block(a, b, False), *block(b, b, True),  # 16 -> 8 px
        *block(b, c, False), *block(c, c, True),  # 8 -> 4 px
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), *head,
    )  # fmt: skip


def _to_input(torch, images_u8):
    """uint8 NHWC numpy or uint8/float NCHW tensor -> normalised float NCHW channels-last."""
    x = torch.from_numpy(images_u8).permute(0, 3, 1, 2) if isinstance(images_u8, np.ndarray) \
        else images_u8  # fmt: skip
    mean = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(CIFAR_STD).view(1, 3, 1, 1) * 255.0
    return ((x.float() - mean) / std).contiguous(memory_format=torch.channels_last)


def _augment(torch, batch_u8, generator):
    """Random crop with reflect padding of CROP_PADDING px and random horizontal flip."""
    n, pad = batch_u8.shape[0], CROP_PADDING
    padded = torch.nn.functional.pad(batch_u8.float(), (pad,) * 4, mode="reflect")
    dy, dx = (torch.randint(0, 2 * pad + 1, (n,), generator=generator) for _ in range(2))
    steps = torch.arange(IMAGE_SIDE)
    rows = (dy[:, None] + steps)[:, None, :, None]
    cols = (dx[:, None] + steps)[:, None, None, :]
    crops = padded[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None],
                   rows, cols]  # fmt: skip
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], crops.flip(3), crops)


def predict_probs(model, images: np.ndarray, *, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """Softmax probabilities (float32, shape ``(n, 10)``) of a CNN on uint8 RGB images."""
    torch = _import_torch()
    model.eval()
    out = np.empty((len(images), len(CLASSES)), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(images), batch_size):
            logits = model(_to_input(torch, images[s : s + batch_size]))
            out[s : s + len(logits)] = torch.softmax(logits.float(), dim=1).numpy()
    return out


def load_cnn(path: str | os.PathLike[str]):
    """Rebuild the CNN and load weights saved by :func:`train_cnn` (``weights_only``).

    The dropout rates come from the JSON summary next to the weights (``.json``, keys
    ``dropout`` and ``conv_dropout``); a summary without them, or none, means no dropout.
    """
    torch = _import_torch()
    summary_file = Path(path).with_suffix(".json")
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    model = _build_cnn(torch, dropout=float(summary.get("dropout", 0.0)),
                       conv_dropout=float(summary.get("conv_dropout", 0.0)))
    model = model.to(memory_format=torch.channels_last)
    model.load_state_dict(torch.load(Path(path), map_location="cpu", weights_only=True))
    return model.eval()


def train_cnn(
    root: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    epochs: int = 8,
    seed: int = 0,
    num_threads: int = 1,
    bf16: bool | None = None,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    progress: bool = True,
) -> dict:
    """Train the CIFAR-10 CNN on the train split and measure it on all 10,000 test images.

    Network: three stages of 3x3 conv-BatchNorm-ReLU blocks of widths :data:`CNN_WIDTHS`
    with max pooling (32 -> 16 -> 8 -> 4 px), global max pooling and one linear layer,
    about 0.28 M parameters. Training: random 32 px crops of the image reflect-padded by
    4 px and random horizontal flips; SGD with Nesterov momentum 0.9, weight decay 5e-4,
    label smoothing 0.1, batches of 256 and a one-cycle learning-rate schedule peaking at
    0.2. Weights are saved with ``torch.save(state_dict)`` (load with ``weights_only=True``,
    see :func:`load_cnn`) and a JSON summary next to them (``.json``).

    Parameters
    ----------
    root : str or os.PathLike
        The ``cifar10-jpeg`` folder; decoded arrays are cached as ``.npy`` in
        ``out_path``'s folder.
    out_path : str or os.PathLike
        Where to save the weights (a cache folder, never the repository).
    epochs : int, default 8
        Passes over the 50,000 training images (60-80 s each on one shared AMD EPYC
        core with bf16; 8 epochs gave 84.0 % clean test accuracy in 9.7 min).
    seed : int, default 0
        Seeds weight initialisation, shuffling and augmentation.
    num_threads : int, default 1
        ``torch.set_num_threads`` value (process-wide); one is fastest on a shared machine.
    bf16 : bool, optional
        Train under bfloat16 autocast (about twice as fast on CPUs with native bf16);
        default: when the CPU supports it. Evaluation is always float32.
    dropout : float, default 0.0
        Rate of an ``nn.Dropout`` on the pooled features before the final linear layer
        (none at 0).
    conv_dropout : float, default 0.0
        Rate of an ``nn.Dropout2d`` after each of the three pooling stages (none at 0).
        Both rates go into the summary, from which :func:`load_cnn` rebuilds the network;
        with both 0 the network is the one ``cnn.pt`` of the CIFAR benchmark was trained as.
    progress : bool, default True
        Print one line per epoch.

    Returns
    -------
    dict
        ``test_accuracy`` (fraction of the 10,000 clean test images right), ``train_seconds``
        (wall time of the training loop), ``epochs``, ``seed``, ``num_threads``, ``bf16``,
        ``dropout``, ``conv_dropout``, ``n_params``, ``final_train_loss``,
        ``torch_version``, ``weights`` (path).
    """
    torch = _import_torch()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(num_threads)
    if bf16 is None:
        bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    x_np, y_np, _ = load_split(root, "train", cache_dir=out_path.parent)
    x = torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(y_np)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = _build_cnn(torch, dropout=dropout, conv_dropout=conv_dropout)
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=MAX_LR, momentum=0.9, nesterov=True,
                          weight_decay=WEIGHT_DECAY)  # fmt: skip
    steps = len(y) // TRAIN_BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, epochs=epochs,
                                                steps_per_epoch=steps, pct_start=0.25)  # fmt: skip
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order, total = torch.randperm(len(y), generator=gen), 0.0
        for i in range(steps):
            idx = order[i * TRAIN_BATCH : (i + 1) * TRAIN_BATCH]
            batch = _to_input(torch, _augment(torch, x[idx], gen))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(batch), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if progress:
            print(
                f"epoch {epoch + 1}/{epochs}  loss {total / steps:.4f}  {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    train_seconds = time.perf_counter() - start
    torch.save(model.state_dict(), out_path)
    test_x, test_y, _ = load_split(root, "test", cache_dir=out_path.parent)
    accuracy = float(np.mean(predict_probs(model, test_x).argmax(1) == test_y))
    summary = {
        "test_accuracy": accuracy, "train_seconds": round(train_seconds, 1), "epochs": epochs,
        "seed": seed, "num_threads": num_threads, "bf16": bf16, "dropout": dropout,
        "conv_dropout": conv_dropout, "n_params": sum(p.numel() for p in model.parameters()),
        "final_train_loss": total / steps, "torch_version": torch.__version__,
        "weights": str(out_path),
    }  # fmt: skip
    out_path.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary


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
    torch = _import_torch()
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
