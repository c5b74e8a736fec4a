"""Feature extraction streamed to a file, in chunks, resumable after an interruption.

:func:`extract_to_file` is :func:`featrisk.extract` for collections too large to hold, or too
slow to lose: it extracts ``chunk_size`` images at a time and saves each chunk at once, so
memory stays flat however many images there are, and an interrupted run (Ctrl-C, a crash,
``kill -9``, a lost machine) loses at most the chunk in flight.

Progress lives in a sidecar folder ``<out>.partial/`` beside the output::

    meta.json              what the rows depend on: schema and featrisk versions, max_pixels
    part-000000.parquet    one finished chunk of rows, written to a temporary file, fsynced
    part-000001.parquet    and renamed, so a part is either whole or absent
    ...

A rerun with the same output resumes: rows of good images whose key still matches (path as
given, ``file_size`` in bytes and ``file_mtime_ns``, the modification time in ns; both stored
as columns) are reused, everything else (new, changed or unreadable files) is extracted. The
final file is then written in input order, one block of ``chunk_size`` rows at a time, to a
temporary file renamed over ``out``, and the sidecar is removed. A sidecar written by another
featrisk or schema version, or with another ``max_pixels``, is discarded, not reused.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from featrisk._atomic import atomic_write
from featrisk.extract import PathLike, as_path_list, extract
from featrisk.io import MAX_PIXELS
from featrisk.profiles import get_profile
from featrisk.schema import FEATURE_COLUMNS, SCHEMA_VERSION

__all__ = ["KEY_COLUMNS", "PARTIAL_SUFFIX", "extract_to_file", "partial_path"]

#: Suffix of the sidecar folder that holds finished chunks while a run is in progress.
PARTIAL_SUFFIX = ".partial"
#: Columns that, with ``path``, identify the file version a row was computed from.
KEY_COLUMNS = ("file_size", "file_mtime_ns")

_META = "meta.json"
_SCHEMA = pa.schema(
    [("path", pa.string()), *[(c, pa.float64()) for c in FEATURE_COLUMNS],
     ("error", pa.string()), ("file_size", pa.int64()), ("file_mtime_ns", pa.int64())],
    metadata={"featrisk_schema": SCHEMA_VERSION},
)


def partial_path(out: PathLike) -> Path:
    """The sidecar folder that holds the finished chunks of a run writing ``out``."""
    out = Path(out)
    return out.with_name(out.name + PARTIAL_SUFFIX)


def _file_key(path: str) -> tuple[int, int]:
    """(size in bytes, mtime in ns) of a file, or (-1, -1) when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return -1, -1
    return int(st.st_size), int(st.st_mtime_ns)


def _meta(max_pixels: int, profile: str) -> dict[str, Any]:
    try:
        version = metadata.version("featrisk")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"format": "featrisk-partial", "format_version": 1, "schema_version": SCHEMA_VERSION,
            "featrisk_version": version, "max_pixels": int(max_pixels), "profile": profile}


def _open_partial(folder: Path, meta: dict[str, Any], resume: bool) -> list[Path]:
    """Prepare the sidecar folder; return its finished parts, or none if it cannot be reused."""
    if folder.exists():
        try:
            old = json.loads((folder / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if not resume or old != meta or not folder.is_dir():
            if folder.is_dir():
                shutil.rmtree(folder)
            else:
                folder.unlink()
    if not folder.exists():
        folder.mkdir(parents=True)
        atomic_write(folder / _META, lambda fh: fh.write(json.dumps(meta).encode("utf-8")))
    for stray in folder.glob(".*.tmp"):  # a write that a kill interrupted
        stray.unlink(missing_ok=True)
    return sorted(folder.glob("part-*.parquet"))


def _finished_rows(parts: list[Path]) -> tuple[dict[tuple[str, int, int], tuple[int, int]], int]:
    """Map (path, size, mtime) of good rows in finished parts to (part number, row)."""
    done: dict[tuple[str, int, int], tuple[int, int]] = {}
    last = -1
    for part in parts:
        number = int(part.stem.split("-")[1])
        last = max(last, number)
        try:
            keys = pq.read_table(part, columns=["path", "error", *KEY_COLUMNS]).to_pydict()
        except (OSError, pa.ArrowException):
            part.unlink(missing_ok=True)  # unreadable (e.g. disk full): extract its rows again
            continue
        rows = zip(keys["path"], keys["error"], keys["file_size"], keys["file_mtime_ns"],
                   strict=True)
        for row, (path, error, size, mtime) in enumerate(rows):
            if error is None:
                done[(path, size, mtime)] = (number, row)
    return done, last


def _write_part(folder: Path, number: int, frame: Any, sizes: np.ndarray, mtimes: np.ndarray) -> None:
    frame = frame.assign(file_size=sizes, file_mtime_ns=mtimes)
    table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
    atomic_write(folder / f"part-{number:06d}.parquet", lambda fh: pq.write_table(table, fh))


class _PartReader:
    """Reads finished parts for assembly, keeping the last few in memory (input order is
    usually part order, so each part is read about once)."""

    def __init__(self, folder: Path, keep: int = 4) -> None:
        self.folder, self.keep, self.cache = folder, keep, {}

    def __call__(self, number: int) -> pa.Table:
        if number not in self.cache:
            if len(self.cache) >= self.keep:
                self.cache.pop(next(iter(self.cache)))
            self.cache[number] = pq.read_table(self.folder / f"part-{number:06d}.parquet",
                                               schema=_SCHEMA)
        return self.cache[number]


def _assemble(out: Path, folder: Path, part_of: np.ndarray, row_of: np.ndarray,
              chunk_size: int, profile: str = "default") -> int:
    """Write every row in input order to ``out`` atomically; return the unreadable count."""
    read = _PartReader(folder)
    parquet = out.suffix.lower() in (".parquet", ".pq")
    unreadable = 0

    def write(fh: Any) -> None:
        nonlocal unreadable
        schema = _SCHEMA.with_metadata({**_SCHEMA.metadata, b"featrisk_profile": profile.encode()})
        writer = pq.ParquetWriter(fh, schema) if parquet else None
        for start in range(0, len(part_of), chunk_size):
            parts, rows = part_of[start : start + chunk_size], row_of[start : start + chunk_size]
            numbers = list(dict.fromkeys(parts.tolist()))
            offsets = np.cumsum([0] + [read(n).num_rows for n in numbers])
            where = dict(zip(numbers, offsets[:-1], strict=False))
            index = np.array([where[p] for p in parts.tolist()], dtype=np.int64) + rows
            block = pa.concat_tables([read(n) for n in numbers]).take(pa.array(index))
            unreadable += block.num_rows - block.column("error").null_count
            if writer is not None:
                writer.write_table(block, row_group_size=chunk_size)
            else:
                block.to_pandas().to_csv(fh, header=start == 0, index=False)
        if writer is not None:
            writer.close()
        elif len(part_of) == 0:
            fh.write((",".join(_SCHEMA.names) + "\n").encode("utf-8"))

    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, write)
    return unreadable


def extract_to_file(
    paths: PathLike | Iterable[PathLike],
    out: PathLike,
    *,
    n_jobs: int = 1,
    progress: bool = False,
    chunk_size: int = 512,
    max_pixels: int = MAX_PIXELS,
    resume: bool = True,
    profile: str = "default",
) -> dict[str, Any]:
    """Extract features of many images into a parquet or CSV file, resumably, in flat memory.

    Parameters
    ----------
    paths : path or iterable of paths
        Image files, as for :func:`featrisk.extract`.
    out : path
        Output table: parquet for a ``.parquet``/``.pq`` suffix, else CSV. An existing file
        is replaced when the run completes (callers that must not overwrite check first, as
        the CLI does). Finished chunks live in ``<out>.partial/`` until then.
    n_jobs : int, default 1
        Worker processes, as for :func:`featrisk.extract`; rows are identical for any value.
    progress : bool, default False
        Show a progress bar (tqdm) with images/s; resumed images count as done at the start.
    chunk_size : int, default 512
        Images extracted and saved together; at most this many are lost to an interruption,
        and memory holds about this many rows.
    max_pixels : int, default 100_000_000
        As for :func:`featrisk.extract`; part of the resume key.
    resume : bool, default True
        Reuse the finished chunks of an interrupted run with the same output. False discards
        them and starts over.
    profile : {"default", "fast"}, default "default"
        As for :func:`featrisk.extract`; part of the resume key, and recorded in a parquet
        file's metadata (``featrisk_profile``).

    Returns
    -------
    dict
        ``images`` (inputs), ``written`` (rows in ``out``: always ``images``), ``resumed``
        (rows reused from the sidecar), ``extracted`` (images decoded in this run),
        ``unreadable`` (rows with an ``error``), ``seconds`` (wall time) and ``out``.

    Notes
    -----
    ``out`` holds one row per input in input order: ``path``, every feature column,
    ``error``, then the key columns ``file_size`` and ``file_mtime_ns`` (-1 for files that
    could not be stat'ed). Unreadable files are retried on resume, since the reason (a file
    still being copied, a permission) may have gone. Two runs must not write the same
    ``out`` at the same time.
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    began = time.perf_counter()
    items = as_path_list(paths)
    out = Path(out)
    folder = partial_path(out)
    get_profile(profile)
    done, last = _finished_rows(_open_partial(folder, _meta(max_pixels, profile), resume))
    # numpy columns, not per-image Python objects: memory per image stays a few bytes
    sizes, mtimes = np.full(len(items), -1, dtype=np.int64), np.full(len(items), -1, dtype=np.int64)
    part_of, row_of = np.full(len(items), -1, dtype=np.int64), np.zeros(len(items), dtype=np.int64)
    for i, path in enumerate(items):
        sizes[i], mtimes[i] = _file_key(path)
        hit = done.get((path, int(sizes[i]), int(mtimes[i])))
        if hit is not None:
            part_of[i], row_of[i] = hit
    del done
    pending = np.flatnonzero(part_of < 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), initial=len(items) - len(pending), unit="img",
                   desc="featrisk extract")
    try:
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start : start + chunk_size]
            frame = extract([items[i] for i in chunk], n_jobs=n_jobs, max_pixels=max_pixels,
                            profile=profile)
            last += 1
            _write_part(folder, last, frame, sizes[chunk], mtimes[chunk])
            part_of[chunk], row_of[chunk] = last, np.arange(len(chunk))
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    unreadable = _assemble(out, folder, part_of, row_of, chunk_size, profile)
    shutil.rmtree(folder, ignore_errors=True)
    return {"images": len(items), "written": len(items), "resumed": len(items) - len(pending),
            "extracted": len(pending), "unreadable": unreadable,
            "seconds": round(time.perf_counter() - began, 3), "out": str(out)}
