"""From image paths to a feature table: one decode per image, errors as rows, in order."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import cv2
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from featrisk.errors import DecodeError
from featrisk.features import ImageContext, compute_all
from featrisk.io import MAX_PIXELS, read_image
from featrisk.schema import FEATURE_COLUMNS, SCHEMA_VERSION

__all__ = ["extract", "extract_row", "as_path_list"]

#: Images per joblib task: large enough to amortise inter-process overhead.
CHUNK = 32

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


def extract_row(path: PathLike, *, max_pixels: int = MAX_PIXELS) -> dict[str, object]:
    """Features of one file as a dict with ``path``, every feature and ``error``.

    A file that cannot be read gets NaN features and an ``error`` reason; nothing raises.
    """
    row: dict[str, object] = {"path": os.fspath(path)}
    try:
        decoded = read_image(path, max_pixels=max_pixels)
        values = compute_all(ImageContext(decoded.rgb, decoded.facts))
    except DecodeError as exc:
        return {**row, **dict.fromkeys(FEATURE_COLUMNS, math.nan), "error": str(exc)}
    except (MemoryError, cv2.error, ValueError, OverflowError) as exc:
        reason = f"{path}: feature computation failed ({type(exc).__name__}: {exc})"
        return {**row, **dict.fromkeys(FEATURE_COLUMNS, math.nan), "error": reason}
    bad = [k for k in FEATURE_COLUMNS if not math.isfinite(values[k])]
    if bad:
        reason = f"{path}: non-finite feature values in {', '.join(bad)}"
        return {**row, **dict.fromkeys(FEATURE_COLUMNS, math.nan), "error": reason}
    return {**row, **{k: values[k] for k in FEATURE_COLUMNS}, "error": None}


@contextmanager
def single_threaded() -> Iterator[None]:
    """Pin OpenCV and BLAS/OpenMP pools to one thread, restoring them afterwards."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(previous)


def _extract_chunk(paths: Sequence[str], max_pixels: int) -> list[dict[str, object]]:
    with single_threaded():
        return [extract_row(p, max_pixels=max_pixels) for p in paths]


def _rows(paths: list[str], n_jobs: int, max_pixels: int) -> Iterator[list[dict[str, object]]]:
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    if n_jobs == 1 or len(chunks) <= 1:
        with single_threaded():
            for chunk in chunks:
                yield [extract_row(p, max_pixels=max_pixels) for p in chunk]
        return
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    yield from parallel(delayed(_extract_chunk)(c, max_pixels) for c in chunks)


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


def _dask_rows(paths: list[str], n_jobs: int, max_pixels: int) -> Iterator[list[dict[str, object]]]:
    """Chunks of rows computed on a dask cluster, yielded in input order."""
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    client, cluster = _dask_client(n_jobs)
    try:
        futures = client.map(_extract_chunk, chunks, max_pixels=max_pixels, pure=False)
        for future in futures:
            yield future.result()
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


def to_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Build a schema-ordered feature table from row dicts (path, features, error)."""
    values = np.array([[row.get(c, math.nan) for c in FEATURE_COLUMNS] for row in rows],
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
    return frame


def extract(
    paths: PathLike | Iterable[PathLike],
    *,
    n_jobs: int = 1,
    progress: bool = False,
    max_pixels: int = MAX_PIXELS,
    backend: str = "local",
) -> pd.DataFrame:
    """Compute the hand-crafted features of image files, without any classifier.

    Each file is read and decoded once; every feature family then reads that one array
    (see :mod:`featrisk.features` for the families and :func:`featrisk.feature_docs` for
    every column's unit, range and direction).

    Parameters
    ----------
    paths : path or iterable of paths
        Image files in any format OpenCV or Pillow reads (JPEG, PNG, WebP, BMP, TIFF, GIF).
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

    Returns
    -------
    DataFrame
        One row per input path, in input order: ``path``, one float64 column per feature
        (:data:`featrisk.FEATURE_COLUMNS`), and ``error`` (None for a good image, else the
        reason, with NaN features). ``attrs["featrisk_schema"]`` holds the schema version.
    """
    if backend not in ("local", "dask"):
        raise ValueError(f'backend must be "local" or "dask", got {backend!r}')
    items = as_path_list(paths)
    rows_of = _dask_rows if backend == "dask" else _rows
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), unit="img", desc="featrisk extract")
    rows: list[dict[str, object]] = []
    try:
        for chunk_rows in rows_of(items, n_jobs, max_pixels):
            rows.extend(chunk_rows)
            if bar is not None:
                bar.update(len(chunk_rows))
    finally:
        if bar is not None:
            bar.close()
    return to_frame(rows)
