"""Input checks and numerically careful helpers shared by the signal modules (private).

Every check names the argument, what was allowed, what was received and, where there is one,
the fix; offending rows are listed together (the first :data:`SHOWN`) in one error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.errors import ModelFileError

#: Largest distance of a probability row's sum from 1 that is taken for rounding and
#: renormalised (as in :mod:`featrisk.softmax`).
SUM_TOLERANCE = 0.01
#: Offending indices quoted in one error message.
SHOWN = 10


def where(bad: np.ndarray) -> str:
    """Describe the offending positions of a bool mask: ``'row 3'``, ``'rows [3, 7] (2 rows)'``.

    A 2-D mask (Monte Carlo passes x images) is described as ``(pass, image)`` pairs.
    """
    idx = np.argwhere(bad)
    unit = "row" if bad.ndim == 1 else "(pass, image)"
    items = [int(i[0]) if bad.ndim == 1 else tuple(int(v) for v in i) for i in idx[:SHOWN]]
    if len(idx) == 1:
        return f"{unit} {items[0]}"
    more = " ..." if len(idx) > SHOWN else ""
    return f"{unit}{'s' if bad.ndim == 1 else ''} {items}{more} ({len(idx)} in all)"


def array(x: npt.ArrayLike, name: str, *, ndim: int, shape: str, min_classes: int = 0) -> np.ndarray:
    """``x`` as a finite float64 array with ``ndim`` axes; the last axis holds >= ``min_classes``."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape {shape}; received {exc}") from None
    if a.ndim != ndim or (min_classes and a.shape[-1] < min_classes):
        raise ValueError(f"{name} must have shape {shape}; received shape {a.shape}")
    bad = ~np.isfinite(a).all(axis=-1)
    if bad.any():
        raise ValueError(f"{name} must be finite; received NaN or infinite values in {where(bad)}; "
                         "drop or repair those rows first")
    return a


def probabilities(x: npt.ArrayLike, name: str, *, ndim: int = 2, shape: str = "(n, K >= 2)") -> np.ndarray:
    """Finite, non-negative probabilities over the last axis, renormalised to sum to 1."""
    p = array(x, name, ndim=ndim, shape=shape, min_classes=2)
    hint = "pass softmax probabilities over all classes, not logits or scores"
    bad = (p < 0).any(axis=-1)
    if bad.any():
        raise ValueError(f"{name} must be >= 0; received a negative value in {where(bad)}; {hint}")
    sums = p.sum(axis=-1, keepdims=True)
    bad = np.abs(sums[..., 0] - 1.0) > SUM_TOLERANCE
    if bad.any():
        first = sums[..., 0][bad][0]
        raise ValueError(f"{name} must sum to 1 (within {SUM_TOLERANCE}) over classes; {where(bad)} "
                         f"do not (the first sums to {first:.4g}); {hint}")
    return p / sums


def labels(y: npt.ArrayLike, name: str, n: int | None = None) -> np.ndarray:
    """Class indices as a 1-D int64 array of non-negative integers (integral floats allowed)."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one class index per image); received shape {a.shape}")
    if n is not None and a.size != n:
        raise ValueError(f"{name} must hold one entry per row ({n}); received {a.size}")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} must hold integer class indices 0..K-1; received dtype {a.dtype}; "
                         "map class names to indices first")
    f = a.astype(np.float64)
    bad = ~np.isfinite(f) | (f < 0) | (f != np.round(f))
    if bad.any():
        raise ValueError(f"{name} must hold integer class indices >= 0; received {a[bad][0].item()!r} "
                         f"(first shown) in {where(bad)}")
    return a.astype(np.int64)


def flags(c: npt.ArrayLike, name: str, n: int) -> np.ndarray:
    """Bool or 0/1 flags (1 = classified correctly) as a 1-D bool array of length ``n``."""
    a = np.asarray(c)
    if a.ndim != 1 or a.size != n:
        raise ValueError(f"{name} must be 1-D with one entry per row ({n}); received shape {a.shape}")
    if a.dtype != bool and not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} must be bool or 0/1 (1 = classified correctly); received dtype {a.dtype}")
    bad = (a != 0) & (a != 1)
    if bad.any():
        raise ValueError(f"{name} must hold only 0/1 or bool (1 = classified correctly); received "
                         f"{a[bad][0].item()!r} (first shown) in {where(bad)}")
    return a.astype(bool)


def integer(value: Any, name: str, minimum: int) -> int:
    """A Python int >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; received {value!r}")
    return int(value)


def frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Signal columns as a float64 DataFrame with index 0..n-1."""
    return pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax over the last axis, stable for any finite logits (row max subtracted)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def logsumexp(z: np.ndarray) -> np.ndarray:
    """``log(sum(exp(z)))`` over the last axis, without overflow (row max subtracted)."""
    m = z.max(axis=-1)
    return m + np.log(np.exp(z - m[..., None]).sum(axis=-1))


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats over the last axis (0 log 0 = 0), never below 0."""
    return np.maximum(-(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=-1), 0.0)


def check_format(d: Any, kind: str, fmt: str, version: int | tuple[int, ...]) -> None:
    """Refuse a :meth:`from_dict` input that is not this format and (one of) these versions."""
    if not isinstance(d, dict) or d.get("format") != fmt:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise ModelFileError(f"{kind}.from_dict needs a dict from {kind}.to_dict() with "
                             f"'format': '{fmt}'; received {got!r}")
    versions = version if isinstance(version, tuple) else (version,)
    if d.get("format_version") not in versions:
        shown = " or ".join(map(str, versions))
        raise ModelFileError(f"{kind}.from_dict reads format_version {shown}; received "
                             f"{d.get('format_version')!r}; refit and save with this featrisk version")
