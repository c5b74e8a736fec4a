"""From images (paths, bytes, arrays, PIL images) to a feature table: one decode per image,
errors as rows, in order."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from featrisk.errors import DecodeError
from featrisk.features import FAMILIES, ImageContext
from featrisk.features._base import work_size
from featrisk.inputs import CHANNEL_ORDERS, as_items, decode_item, item_name
from featrisk.io import MAX_PIXELS
from featrisk.profiles import get_profile
from featrisk.schema import FEATURE_COLUMNS, FILE_COLUMNS, SCHEMA_VERSION

__all__ = ["as_path_list", "extract", "extract_row", "extract_rows"]

#: Most images per task (a joblib or dask task, or one progress-bar step in this process).
CHUNK = 128
#: Most images decoded before the feature families run over them (see :func:`extract_rows`).
BATCH_IMAGES = 128
#: Most bytes of decoded arrays and derived views held by one batch (estimated), 64 MB.
BATCH_BYTES = 64_000_000

PathLike = str | os.PathLike[str]


def as_path_list(paths: PathLike | Iterable[PathLike]) -> list[str]:
    """Normalise one path or an iterable of paths to a list of str."""
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    if isinstance(paths, pd.Series):
        paths = paths.tolist()
    out = []
    for p in paths:
        if not isinstance(p, str | os.PathLike):
            raise TypeError(f"paths must be str or path-like, got {type(p).__name__}: {p!r}")
        out.append(os.fspath(p))
    return out


def _error_row(path: str, reason: str) -> dict[str, object]:
    return {"path": path, **dict.fromkeys(FEATURE_COLUMNS, math.nan), "error": reason}


def _failed(path: str, exc: BaseException) -> str:
    return f"{path}: feature computation failed ({type(exc).__name__}: {exc})"


#: Errors a family may raise on a strange image; they fail that image's row, not the batch.
_COMPUTE_ERRORS = (MemoryError, cv2.error, ValueError, OverflowError)


def _batch_bytes(ctx: ImageContext) -> int:
    """Rough memory (bytes) an image context holds once every family has run.

    The native RGB and grey arrays (4 bytes per native pixel) plus the cached views of the
    working image: measured at 38-39 bytes per working pixel once every family has run (on
    ImageNet photos and a CIFAR image), counted as 64 to leave room for the temporaries a
    family makes.
    """
    h, w = ctx.native_rgb.shape[:2]
    ww, wh = work_size(w, h)
    return 4 * h * w + 64 * ww * wh


def extract_rows(items: Sequence[Any], *, max_pixels: int = MAX_PIXELS,
                 profile: str = "default", channel_order: str = "RGB",
                 names: Sequence[str] | None = None) -> list[dict[str, object]]:
    """Features of many images as row dicts (``path``, every feature, ``error``), in order.

    ``items`` are paths, bytes, arrays or PIL images (:mod:`featrisk.inputs`); ``names``
    (default: :func:`featrisk.inputs.item_name` of each at its position) fill ``path``.

    Images are decoded in batches of at most :data:`BATCH_IMAGES` images and about
    :data:`BATCH_BYTES` of decoded arrays and views, and each feature family then runs over
    the whole batch before the next family starts. The values are those of one image at a
    time (every image has its own :class:`ImageContext`); running one family's code over
    many images in a row keeps it in the CPU caches, which measured 15-25% faster on 32 px
    CIFAR images and about 7% on ImageNet photos. A file that cannot be read, or an image a
    family fails on, gets NaN features and an ``error`` reason; nothing raises and the rest
    of the batch is unaffected. ``profile`` names the :mod:`featrisk.profiles` entry that
    sets the decoded resolution.
    """
    fit = get_profile(profile).fit
    rows: list[dict[str, object]] = []
    batch: list[tuple[int, ImageContext]] = []
    held = 0
    if names is None:
        names = [item_name(item, i) for i, item in enumerate(items)]
    for item, name in zip(items, names, strict=True):
        rows.append({"path": name})
        try:
            decoded = decode_item(item, name, max_pixels=max_pixels, fit=fit,
                                  channel_order=channel_order)
        except DecodeError as exc:
            rows[-1] = _error_row(name, str(exc))
            continue
        except _COMPUTE_ERRORS as exc:
            rows[-1] = _error_row(name, _failed(name, exc))
            continue
        ctx = ImageContext(decoded.rgb, decoded.facts)
        batch.append((len(rows) - 1, ctx))
        held += _batch_bytes(ctx)
        if len(batch) >= BATCH_IMAGES or held >= BATCH_BYTES:
            _compute_batch(batch, rows)
            batch, held = [], 0
    _compute_batch(batch, rows)
    return rows


def _compute_batch(batch: list[tuple[int, ImageContext]], rows: list[dict[str, object]]) -> None:
    """Run every family over the batch, family by family; fill ``rows`` in place."""
    values: dict[int, dict[str, float]] = {i: {} for i, _ in batch}
    for fam in FAMILIES:
        for i, ctx in batch:
            if i not in values:
                continue
            try:
                values[i].update(fam.compute(ctx))
            except _COMPUTE_ERRORS as exc:
                path = str(rows[i]["path"])
                rows[i] = _error_row(path, _failed(path, exc))
                del values[i]
    for i, vals in values.items():
        path = str(rows[i]["path"])
        ordered = list(map(vals.__getitem__, FEATURE_COLUMNS))
        if not all(map(math.isfinite, ordered)):
            # NaN file facts mean "no file" (pixels given in memory); anything else is a fault
            bad = [k for k, v in zip(FEATURE_COLUMNS, ordered, strict=True)
                   if not math.isfinite(v) and not (k in FILE_COLUMNS and math.isnan(v))]
        else:
            bad = []
        if bad:
            rows[i] = _error_row(path, f"{path}: non-finite feature values in {', '.join(bad)}")
        else:
            row: dict[str, object] = {"path": path}
            row.update(zip(FEATURE_COLUMNS, ordered, strict=True))
            row["error"] = None
            rows[i] = row


def extract_row(item: Any, *, max_pixels: int = MAX_PIXELS, profile: str = "default",
                channel_order: str = "RGB") -> dict[str, object]:
    """Features of one image as a dict with ``path``, every feature and ``error``.

    An image that cannot be read gets NaN features and an ``error`` reason; nothing raises.
    """
    return extract_rows([item], max_pixels=max_pixels, profile=profile,
                        channel_order=channel_order)[0]


_PIN_LOCK = threading.Lock()
_pin: dict[str, Any] = {"depth": 0, "restore": None}


@contextmanager
def single_threaded() -> Iterator[None]:
    """Pin OpenCV and BLAS/OpenMP pools to one thread, restoring them afterwards.

    The pools are process-wide, so the pin is counted: threads of one process that extract
    at the same time share it, and the last one out restores the previous sizes.
    """
    with _PIN_LOCK:
        if _pin["depth"] == 0:
            previous = cv2.getNumThreads()
            cv2.setNumThreads(1)
            limiter = threadpool_limits(1)
            _pin["restore"] = (previous, limiter)
        _pin["depth"] += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _pin["depth"] -= 1
            if _pin["depth"] == 0:
                previous, limiter = _pin["restore"]
                limiter.restore_original_limits()
                cv2.setNumThreads(previous)


#: One task: the items and their names.
Chunk = tuple[list[Any], list[str]]


def _extract_chunk(chunk: Chunk, max_pixels: int, profile: str = "default",
                   channel_order: str = "RGB") -> list[dict[str, object]]:
    with single_threaded():
        return extract_rows(chunk[0], max_pixels=max_pixels, profile=profile,
                            channel_order=channel_order, names=chunk[1])


def _chunks(items: list[Any], workers: int) -> list[Chunk]:
    """Split ``items`` into tasks: about four per worker, 8 to :data:`CHUNK` images each.

    One worker takes :data:`CHUNK` images at a time. Each item is named by its position.
    """
    names = [item_name(item, i) for i, item in enumerate(items)]
    size = CHUNK if workers == 1 else max(8, min(CHUNK, math.ceil(len(items) / (4 * workers))))
    return [(items[i : i + size], names[i : i + size]) for i in range(0, len(items), size)]


def _rows(items: list[Any], n_jobs: int, max_pixels: int, profile: str = "default",
          channel_order: str = "RGB") -> Iterator[list[dict[str, object]]]:
    chunks = _chunks(items, (os.cpu_count() or 1) if n_jobs < 0 else n_jobs)
    if n_jobs == 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield _extract_chunk(chunk, max_pixels, profile, channel_order)
        return
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    yield from parallel(delayed(_extract_chunk)(c, max_pixels, profile, channel_order)
                        for c in chunks)


def _dask_client(n_jobs: int):  # -> (Client, LocalCluster | None)
    """The running ``dask.distributed`` client, or a new LocalCluster's (closed by the caller)."""
    try:
        from distributed import Client, LocalCluster, get_client
    except ImportError as exc:
        raise ImportError(
            'extract(backend="dask") needs dask.distributed, which is not installed; install it '
            'with pip install "featrisk[dask]"'
        ) from exc
    try:
        return get_client(), None
    except ValueError:  # no client running: start a local cluster, one thread per worker
        workers = None if n_jobs in (1, -1) else n_jobs
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster


def _dask_rows(items: list[Any], n_jobs: int, max_pixels: int, profile: str = "default",
               channel_order: str = "RGB") -> Iterator[list[dict[str, object]]]:
    """Chunks of rows computed on a dask cluster, yielded in input order."""
    client, cluster = _dask_client(n_jobs)
    chunks = _chunks(items, len(client.scheduler_info().get("workers", {})) or 1)
    try:
        futures = client.map(_extract_chunk, chunks, max_pixels=max_pixels, profile=profile,
                             channel_order=channel_order, pure=False)
        for future in futures:
            yield future.result()
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


def to_frame(rows: list[dict[str, object]], profile: str = "default") -> pd.DataFrame:
    """Build a schema-ordered feature table from row dicts (path, features, error)."""
    # a missing or None value becomes NaN in the float64 conversion
    values = np.array([list(map(row.get, FEATURE_COLUMNS)) for row in rows],
                      dtype=np.float64).reshape(len(rows), len(FEATURE_COLUMNS))
    errors = [row.get("error") for row in rows]
    # one float block and two object columns: a consolidated frame, not one block per column
    frame = pd.concat([
        pd.DataFrame({"path": pd.Series([row.get("path") for row in rows], dtype=object)}),
        pd.DataFrame(values, columns=list(FEATURE_COLUMNS)),
        pd.DataFrame({"error": pd.Series([None if e is None or e != e else e for e in errors],
                                         dtype=object)}),
    ], axis=1)
    frame.attrs["featrisk_schema"] = SCHEMA_VERSION
    frame.attrs["featrisk_profile"] = profile
    return frame


def extract(
    images: Any,
    *,
    n_jobs: int = 1,
    progress: bool = False,
    max_pixels: int = MAX_PIXELS,
    backend: str = "local",
    profile: str = "default",
    channel_order: str = "RGB",
) -> pd.DataFrame:
    """Compute the hand-crafted features of images, without any classifier.

    Each image is read and decoded once; every feature family then reads that one array
    (see :mod:`featrisk.features` for the families and :func:`featrisk.feature_docs` for
    every column's unit, range and direction). Images are processed in batches of at most
    128 images and about 64 MB of decoded arrays, family by family (see
    :func:`extract_rows`); the values are those of each image on its own.

    Parameters
    ----------
    images : image or iterable of images
        Paths of image files (JPEG, PNG, WebP, BMP, TIFF, GIF, ...), encoded bytes, decoded
        uint8 arrays (H x W x 3, H x W x 4 or H x W; an N x H x W x C array is N images)
        or PIL images, alone or mixed (:mod:`featrisk.inputs`). Items held in memory are
        named ``"<array #3>"`` (kind and position) in ``path``; nothing is written to disk.
        Arrays and PIL images have no file, so their file-fact columns
        (:data:`featrisk.schema.FILE_COLUMNS`) are NaN; models fill them.
    n_jobs : int, default 1
        Worker processes (joblib); -1 uses all cores. Results are identical to ``n_jobs=1``
        and in input order. Scripts that use ``n_jobs != 1`` on platforms that spawn
        processes need an ``if __name__ == "__main__":`` guard.
    progress : bool, default False
        Show a progress bar (tqdm) with images/s.
    max_pixels : int, default 100_000_000
        Files declaring more pixels are refused before decoding (an ``error`` row).
    backend : {"local", "dask"}, default "local"
        ``"local"``: this process, or ``n_jobs`` joblib workers on this machine. ``"dask"``:
        chunks of images run on the current ``dask.distributed`` client's workers (one
        machine or many; every worker needs featrisk installed and read access to the
        paths); with no client running, a ``LocalCluster`` is started for the call (with
        ``n_jobs`` worker processes when ``n_jobs > 1``) and closed afterwards. Results are
        identical to ``"local"`` and in input order. Needs ``pip install "featrisk[dask]"``.
    profile : {"default", "fast"}, default "default"
        The resolution the features are computed at (:mod:`featrisk.profiles`).
        ``"fast"`` shrinks every image to at most 40 px on its short side, decoding
        JPEGs at reduced scale: several times faster on photos, less accurate
        (BENCHMARKS.md). A model reads only tables of the profile it was fitted on.

    channel_order : {"RGB", "BGR"}, default "RGB"
        Channel order of 3- and 4-channel arrays (``"BGR"`` for ``cv2.imread``'s arrays).

    Returns
    -------
    DataFrame
        One row per input image, in input order: ``path``, one float64 column per feature
        (:data:`featrisk.FEATURE_COLUMNS`), and ``error`` (None for a good image, else the
        reason, with NaN features). ``attrs["featrisk_schema"]`` holds the schema version,
        ``attrs["featrisk_profile"]`` the profile.
    """
    if backend not in ("local", "dask"):
        raise ValueError(f'backend must be "local" or "dask", got {backend!r}')
    get_profile(profile)  # a bad name fails before any work
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}")
    items = as_items(images)
    rows_of = _dask_rows if backend == "dask" else _rows
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), unit="img", desc="featrisk extract")
    rows: list[dict[str, object]] = []
    try:
        for chunk_rows in rows_of(items, n_jobs, max_pixels, profile, channel_order):
            rows.extend(chunk_rows)
            if bar is not None:
                bar.update(len(chunk_rows))
    finally:
        if bar is not None:
            bar.close()
    return to_frame(rows, profile)
