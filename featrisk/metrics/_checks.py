"""Input checks shared by the metrics: outcomes, risks, counts and rates, with errors that
name the argument, what is allowed and what was received."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def _as_error(error: npt.ArrayLike, name: str) -> np.ndarray:
    e = np.asarray(error)
    if e.dtype == object:  # e.g. a pandas nullable column holding <NA>: report which rows
        try:
            e = e.astype(float)
        except (TypeError, ValueError):
            pass
    if e.ndim != 1:
        raise ValueError(f"{name} must be 1-D; received shape {e.shape}")
    if e.dtype != bool and not np.issubdtype(e.dtype, np.number):
        raise ValueError(
            f"{name} must be bool or 0/1 (1 = misclassified); received dtype {e.dtype}"
        )
    bad = np.flatnonzero((e != 0) & (e != 1))
    if bad.size:
        raise ValueError(
            f"{name} must hold only 0/1 or bool (1 = misclassified); received "
            f"{e[bad[:5]].tolist()} at index {bad[:5].tolist()}{' ...' if bad.size > 5 else ''}"
        )
    return e.astype(float)


def _as_risk(risk: npt.ArrayLike, name: str) -> np.ndarray:
    try:
        r = np.asarray(risk, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; received {exc}") from None
    if r.ndim != 1:
        raise ValueError(f"{name} must be 1-D; received shape {r.shape}")
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        raise ValueError(
            f"{name} must be finite, no NaN or inf; received {bad.size} non-finite value(s) at "
            f"index {bad[:10].tolist()}{' ...' if bad.size > 10 else ''}; "
            "drop unreadable rows before scoring"
        )
    return r


def _validate(error, risk, *, names=("error", "risk")) -> tuple[np.ndarray, np.ndarray]:
    e, r = _as_error(error, names[0]), _as_risk(risk, names[1])
    if e.size != r.size:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length; received {e.size} and {r.size}"
        )
    if e.size == 0:
        raise ValueError(f"{names[0]} and {names[1]} must not be empty; received 0 rows")
    return e, r


def _require_unit(r: np.ndarray, name: str = "risk") -> None:
    bad = np.flatnonzero((r < 0) | (r > 1))
    if bad.size:
        raise ValueError(
            f"{name} must lie in [0, 1] for calibration; received {r[bad[:5]].tolist()} "
            f"at index {bad[:5].tolist()}"
        )


def _require_classes(e: np.ndarray, metric: str, *, need_negatives: bool = True) -> None:
    n_err = int(e.sum())
    if n_err == 0 or (need_negatives and n_err == e.size):
        which = "0 (correct)" if n_err == 0 else "1 (misclassified)"
        raise ValueError(
            f"{metric} is undefined when only one class is present; error must contain both "
            f"0 and 1, received {e.size} row(s) that are all {which}"
        )


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; received {value!r}")
    return int(value)


def _check_rate(value: Any, name: str, *, allow_one: bool) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not (0 < value < 1 or (allow_one and value == 1)):
        interval = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"{name} must be a number in {interval}; received {value!r}")
    return float(value)
