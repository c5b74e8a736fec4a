"""The table a RiskModel reads: features, ``extra`` columns, file facts and estimator outputs.

Training and prediction build it the same way: paths are extracted (or an extracted table is
checked), ``extra`` columns are joined on ``path`` or by row order, file facts missing for
images that have no file take the typical training value, and the degradation estimator's
outputs are added unless the table already holds them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from featrisk.degradation import DegradationEstimator, default_estimator
from featrisk.errors import SchemaError
from featrisk.extract import extract
from featrisk.profiles import profile_of
from featrisk.schema import FEATURE_COLUMNS, FILE_COLUMNS, check_feature_table

__all__ = ["design_matrix", "fill_file_facts", "file_fill_values", "outcomes_from"]


def outcomes_from(correct: Any = None, *, y_true: Any = None, y_pred: Any = None) -> np.ndarray:
    """Return 1 where the classifier was wrong, from ``correct`` or ``y_true``/``y_pred``."""
    if correct is not None and (y_true is not None or y_pred is not None):
        raise ValueError("pass either correct= or y_true=/y_pred=, not both")
    if correct is None:
        if y_true is None or y_pred is None:
            raise ValueError("pass correct= (bool per image) or both y_true= and y_pred=")
        yt, yp = np.asarray(y_true), np.asarray(y_pred)
        if yt.shape != yp.shape:
            raise ValueError(f"y_true has shape {yt.shape} but y_pred has {yp.shape}")
        return (yt != yp).astype(np.int8)
    c = np.asarray(correct)
    allowed = {True, False}  # 1 == True and 0 == False, so 1/0 pass too
    if c.dtype.kind not in "biu" and not (c.dtype == object and set(c.tolist()) <= allowed):
        raise ValueError(f"correct must be bool (True = classified right), got dtype {c.dtype}")
    if c.dtype.kind in "iu" and not np.isin(c, (0, 1)).all():
        raise ValueError("correct must hold only True/False (or 1/0)")
    return (~c.astype(bool)).astype(np.int8)


def _join_extra(features: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    if extra is None:
        return features
    if not isinstance(extra, pd.DataFrame):
        raise TypeError(f"extra must be a pandas DataFrame, got {type(extra).__name__}")
    cols = [c for c in extra.columns if c != "path"]
    clash = [c for c in cols if c in features.columns]
    if clash:
        raise ValueError(f"extra repeats feature columns: {', '.join(clash)}")
    if "path" in extra.columns and "path" in features.columns:
        lookup = extra.drop_duplicates("path").set_index("path")[cols]
        joined = lookup.reindex(features["path"].to_numpy())
        known = features["path"].isin(lookup.index).to_numpy()
        missing = features["path"][~known].tolist() if cols else []
        if missing:
            raise ValueError(f"extra has no row for {len(missing)} path(s), e.g. {missing[0]}")
        values = joined.reset_index(drop=True)
    else:
        if len(extra) != len(features):
            raise ValueError(
                f"extra has {len(extra)} rows but there are {len(features)} images; give it a "
                "'path' column to join on, or the same rows in the same order"
            )
        values = extra[cols].reset_index(drop=True)
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(values[c])]
    if bad:
        raise TypeError(f"extra columns must be numeric: {', '.join(bad)}")
    out = features.reset_index(drop=True).copy()
    for c in cols:
        out[c] = values[c].astype(np.float64).to_numpy()
    return out


def design_matrix(X: Any, extra: pd.DataFrame | None = None, *, n_jobs: int = 1,
                  progress: bool = False, required: tuple[str, ...] = FEATURE_COLUMNS,
                  profile: str = "default") -> pd.DataFrame:
    """Feature table for paths or an extracted table, joined with ``extra`` columns.

    Paths are extracted with ``profile``; a table must have been extracted with it (a table
    that does not record its profile is taken as ``"default"``).
    """
    if isinstance(X, pd.DataFrame):
        check_feature_table(X, required=required, what="X")
        if profile_of(X) != profile:
            raise SchemaError(
                f"X was extracted with profile {profile_of(X)!r}, the model reads profile "
                f"{profile!r}; extract the images with featrisk.extract(paths, "
                f"profile={profile!r})"
            )
        table = X.reset_index(drop=True)
        if "error" not in table.columns:
            table = table.assign(error=None)
        if "path" not in table.columns:
            table = table.assign(path=[f"row {i}" for i in range(len(table))])
    else:  # images: featrisk.inputs says which kinds, and raises for anything else
        table = extract(X, n_jobs=n_jobs, progress=progress, profile=profile)
    return _join_extra(table, extra)


def file_fill_values(table: pd.DataFrame) -> dict[str, float]:
    """Middle of the interquartile range of each file-fact column over the rows that have it.

    The value a model gives the :data:`~featrisk.schema.FILE_COLUMNS` of images that have no
    file (arrays, PIL images): the typical file of its training images.
    """
    out = {}
    for col in FILE_COLUMNS:
        if col in table.columns:
            v = table[col].to_numpy(np.float64)
            v = v[np.isfinite(v)]
            if v.size:
                q25, q75 = np.quantile(v, (0.25, 0.75))
                out[col] = float((q25 + q75) / 2)
    return out


def fill_file_facts(table: pd.DataFrame, fill: dict[str, float]) -> pd.DataFrame:
    """``table`` with the NaN file facts of readable rows set to ``fill`` (a copy if any)."""
    readable = table["error"].isna().to_numpy() if "error" in table.columns else True
    holes = {c: readable & table[c].isna().to_numpy() for c in fill if c in table.columns}
    holes = {c: m for c, m in holes.items() if m.any()}
    if not holes:
        return table
    table = table.copy()
    for col, mask in holes.items():
        table.loc[mask, col] = fill[col]
    return table


def degradation_estimator(degradation: str | None, profile: str) -> DegradationEstimator | None:
    """The degradation estimator a model with these settings reads (None for ``None``)."""
    if degradation is None:
        return None
    if degradation != "default":
        raise ValueError(f"degradation must be 'default' or None, got {degradation!r}")
    return default_estimator(profile)


def with_degradation(table: pd.DataFrame, estimator: DegradationEstimator | None) -> pd.DataFrame:
    """Add the degradation estimator's outputs unless the table already holds them."""
    if estimator is None or set(estimator.columns) <= set(table.columns):
        return table
    derived = estimator.transform(table)
    return pd.concat([table, derived.drop(columns=[c for c in derived if c in table])], axis=1)
