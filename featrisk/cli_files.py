"""Files the command line reads and writes: tables, image lists, label tables, ``.npy`` arrays.

Shared by the ``featrisk`` commands (:mod:`featrisk.cli`) and ``featrisk report``
(:mod:`featrisk.report.cli`). A mistake on the command line raises :class:`UsageError`,
which the CLI turns into exit code 2 and the message.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from featrisk.extract import extract
from featrisk.schema import SCHEMA_VERSION

EXIT_OK, EXIT_USAGE, EXIT_ERROR, EXIT_EMPTY, EXIT_INTERRUPTED = 0, 2, 3, 4, 130

#: File extensions collected when a directory is given.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


class UsageError(Exception):
    """A command-line mistake: exits with code 2 and the message."""


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or parquet table, by suffix.

    A parquet file's ``featrisk_profile`` metadata (written by ``featrisk extract``) is kept
    in ``attrs["featrisk_profile"]``.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: table not found")
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pd.read_parquet(p)
        profile = (pq.read_schema(p).metadata or {}).get(b"featrisk_profile")
        if profile is not None:
            table.attrs["featrisk_profile"] = profile.decode("utf-8", "replace")
        return table
    return pd.read_csv(p)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Write CSV or parquet by suffix; refuse to replace a file unless ``overwrite``."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise UsageError(f"{p} exists; pass --overwrite to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    if p.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, p)
    return p


#: Suffixes of a ``--list`` file read as a table (its ``path`` column) instead of as lines.
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def collect_paths(items: Sequence[str], list_file: str | None) -> list[str]:
    """Image paths from arguments (files or folders, searched recursively) and a list file:
    one path per line, or a CSV / parquet table's ``path`` column (relative paths taken
    relative to the table's folder, as in ``--labels``)."""
    paths: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            paths.extend(str(f) for f in sorted(p.rglob("*"))
                         if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(item)
    if list_file and Path(list_file).suffix.lower() in TABLE_SUFFIXES:
        paths.extend(resolve_table_paths(read_table(list_file), list_file))
    elif list_file:
        try:
            lines = Path(list_file).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise UsageError(f"{list_file}: list file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{list_file}: cannot read the list file as UTF-8 text ({exc})"
                             ) from None
        paths.extend(line.strip() for line in lines if line.strip())
    return paths


def resolve_table_paths(table: pd.DataFrame, table_path: str) -> list[str]:
    """Paths of a labels table; relative ones are taken relative to the table's folder."""
    if "path" not in table.columns:
        raise UsageError(f"{table_path}: needs a 'path' column (got {', '.join(table.columns)})")
    base = Path(table_path).parent
    return [p if os.path.isabs(p) else str(base / p) for p in table["path"].astype(str)]


def extra_for(table_path: str | None, X: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame | None:
    """The ``columns`` the ``--extra`` table holds (it needs a ``path`` column), in the rows
    of the images of ``X``.

    Paths match as absolute paths; relative ones in the table are relative to its folder.
    """
    if not table_path:
        return None
    table = read_table(table_path)
    keys: dict[str, int] = {}
    for i, p in enumerate(resolve_table_paths(table, table_path)):
        keys.setdefault(os.path.abspath(p), i)
    rows = [keys.get(os.path.abspath(str(p))) for p in X["path"]]
    missing = [str(p) for p, i in zip(X["path"], rows, strict=True) if i is None]
    if missing:
        raise UsageError(f"{table_path}: no row for {len(missing)} image(s), e.g. {missing[0]}")
    return table.iloc[rows][[c for c in columns if c in table.columns]].reset_index(drop=True)


def outcomes_kwargs(table: pd.DataFrame, where: str) -> dict[str, object]:
    """``correct=`` or ``y_true=/y_pred=`` from a labels table."""
    if "correct" in table.columns:
        return {"correct": table["correct"].astype(bool).to_numpy()}
    if {"y_true", "y_pred"} <= set(table.columns):
        return {"y_true": table["y_true"].to_numpy(), "y_pred": table["y_pred"].to_numpy()}
    raise UsageError(f"{where}: needs a 'correct' column or 'y_true' and 'y_pred' columns")


def features_for(args: argparse.Namespace, paths: list[str],
                 profile: str | None = None) -> pd.DataFrame:
    """Features of ``paths``: rows of the ``--features`` table, else extracted with ``profile``.

    A table keeps the profile its parquet metadata records; a table that records none (CSV)
    is taken to have ``profile`` (default ``"default"``).
    """
    if getattr(args, "features", None):
        table = read_table(args.features)
        recorded = table.attrs.get("featrisk_profile", profile or "default")
        if "path" in table.columns and paths:
            rows = {}
            for i, p in enumerate(table["path"].astype(str)):
                rows.setdefault(p, i)
                rows.setdefault(os.path.abspath(p), i)
            index = [rows.get(p, rows.get(os.path.abspath(p))) for p in paths]
            missing = [p for p, i in zip(paths, index, strict=True) if i is None]
            if missing:
                raise UsageError(f"{args.features}: no features for {len(missing)} path(s), "
                                 f"e.g. {missing[0]}")
            table = table.iloc[index].reset_index(drop=True)
        table.attrs["featrisk_schema"] = SCHEMA_VERSION
        table.attrs["featrisk_profile"] = recorded
        return table
    if not paths:
        raise UsageError("no images given")
    return extract(paths, n_jobs=args.n_jobs, progress=not args.quiet,
                   profile=profile or "default")


def read_array(path: str | None, what: str) -> np.ndarray | None:
    """A .npy array (never a pickle), or None without a path."""
    if path is None:
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--{what} {path}: not a readable .npy array ({exc})") from None
