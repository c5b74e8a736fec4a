"""The featrisk model file: one JSON text document, written atomically; nothing is ever unpickled.

File layout (UTF-8 JSON)::

    {"format": "featrisk-model", "format_version": 1,
     "manifest": {schema_version, feature_names, extra_columns, calibration, hybrid, threshold,
                  training_summary, feature_quantiles, file_fill, mean_abs_contribution, oof,
                  params, package_versions, saved_at},
     "booster_sha256": "<sha256 of the booster text>",
     "booster": "<LightGBM text model>"}

Saving writes a temporary file beside the target and renames it over the target, so a crash
mid-save never leaves a half-written model where a good one was. Reading refuses pickles and
archives unread, and checks the format, the checksums and the feature schema before the
manifest is used. This module reads a fitted model's attributes but does not import
:class:`featrisk.RiskModel`: :meth:`RiskModel.save <featrisk.RiskModel.save>` writes through
it, and :func:`featrisk.persist.load` rebuilds the model from what it reads.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import pickletools
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from featrisk import stack
from featrisk._atomic import atomic_write
from featrisk.errors import ModelFileError, SchemaError
from featrisk.schema import SCHEMA_VERSION

__all__ = ["FORMAT", "FORMAT_VERSION", "PARAMS", "calibration_from", "estimator_digest", "hybrid_from",
           "manifest_digest", "read_document", "save"]

FORMAT = "featrisk-model"
FORMAT_VERSION = 1
#: The RiskModel parameters a file records.
PARAMS = ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "cv",
          "early_stopping_rounds", "threshold", "random_state", "n_jobs", "params", "features",
          "degradation", "calibration", "profile", "hybrid", "denoise")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("featrisk", "lightgbm", "numpy", "pandas", "opencv-python-headless",
                 "scikit-image"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest as canonical JSON (sorted keys): the same after a save/load."""
    return _digest(json.dumps(manifest, sort_keys=True, separators=(",", ":")))


def save(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write a fitted model to ``path`` atomically (temporary file + rename).

    Returns
    -------
    Path
        The path written.
    """
    model._check_fitted()
    booster = model.booster_.model_to_string()
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "feature_names": model.feature_names_,
        "extra_columns": model.extra_columns_,
        "calibration": _calibration_doc(model),
        "hybrid": model.hybrid_,
        "threshold": model.threshold_,
        "n_estimators": model.n_estimators_,
        "training_summary": model.training_summary_,
        "feature_quantiles": model.feature_quantiles_,
        "file_fill": model.file_fill_,
        "mean_abs_contribution": model.mean_abs_contrib_,
        "atypicality": (None if getattr(model, "atypicality_", None) is None
                        else model.atypicality_.to_dict()),
        "degradation_sha256": estimator_digest(model),
        "oof": {"risk": model.oof_risk_.tolist(), "error": model.oof_error_.tolist()},
        "params": {k: getattr(model, k) for k in PARAMS},
        "package_versions": _versions(),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "manifest": manifest,
           "manifest_sha256": manifest_digest(json.loads(json.dumps(manifest))),
           "booster_sha256": _digest(booster), "booster": booster}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda fh: json.dump(doc, codecs.getwriter("utf-8")(fh)))
    return target


def _calibration_doc(model: Any) -> dict[str, Any]:
    a, b = model.calibration_
    stack = model.stack_
    if stack is None:
        return {"method": "platt", "a": a, "b": b}
    return {"method": "stack", "a": a, "b": b, "p_columns": list(stack["p_columns"]),
            "severity_column": stack["severity_column"], "coef": list(stack["coef"])}


def calibration_from(doc: dict[str, Any], feature_names: list[str]) -> dict[str, Any] | None:
    """The stack of a manifest's calibration block, checked against the model's features."""
    method = doc.get("method", "platt")
    if method == "platt":
        return None
    if method != "stack":
        raise ModelFileError(f"model file names an unknown calibration method {method!r}")
    stack = {"p_columns": [str(c) for c in doc["p_columns"]],
             "severity_column": str(doc["severity_column"]),
             "coef": [float(c) for c in doc["coef"]]}
    if not set(stack["p_columns"]) | {stack["severity_column"]} <= set(feature_names):
        raise ModelFileError("model file's calibration names features the model lacks")
    if len(stack["coef"]) != 3 * len(stack["p_columns"]):
        raise ModelFileError("model file's calibration has the wrong number of coefficients")
    return stack


def hybrid_from(doc: Any) -> dict[str, Any] | None:
    """The hybrid stack of a manifest (None for models without one), checked."""
    if doc is None:
        return None
    if isinstance(doc, dict) and "column" in doc:  # files saved before the forward selection
        doc = {"columns": [doc["column"]], "coef": [doc.get("coef")]}
    columns, coef = (doc.get(k) if isinstance(doc, dict) else None for k in ("columns", "coef"))
    if (not isinstance(columns, list) or not isinstance(coef, list) or len(columns) != len(coef)
            or not all(isinstance(c, str) and stack.is_signal(c) for c in columns)):
        raise ModelFileError("model file's hybrid stack must list classifier-signal columns "
                             "(softmax_*, signal_*) and one coefficient each")
    try:
        weights = [float(w) for w in coef]
    except (TypeError, ValueError):
        weights = [np.nan]
    if not np.isfinite(weights).all():
        raise ModelFileError("model file's hybrid stack has a non-finite coefficient")
    return {"columns": list(columns), "coef": weights}


def estimator_digest(model: Any) -> str | None:
    est = model._estimator()
    return None if est is None else est.sha256_


#: Magic numbers of compressed or archive files (joblib's compressors, zip).
_ARCHIVES = ((b"\x1f\x8b", "gzip-compressed (joblib)"), (b"BZh", "bz2-compressed (joblib)"),
             (b"\xfd7zXZ\x00", "xz-compressed (joblib)"), (b"]\x00\x00", "lzma-compressed (joblib)"),
             (b"PK\x03\x04", "zip"))


def _binary_kind(raw: bytes) -> str | None:
    """Name a pickle, joblib or archive file from its bytes, without loading it."""
    if raw[:1] == b"\x80":
        return "pickle/joblib"
    for magic, name in _ARCHIVES:
        if raw.startswith(magic):
            return name
    if len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] * 256 + raw[1]) % 31 == 0:
        return "zlib-compressed (joblib)"
    try:  # protocols 0 and 1 have no header: parse the opcodes (never executes or imports)
        ops = list(pickletools.genops(raw))
    except Exception:  # noqa: BLE001 - not a pickle
        return None
    return "pickle" if ops and ops[-1][0].name == "STOP" else None


def _refuse_binary(path: Path, raw: bytes) -> None:
    if not raw:
        raise ModelFileError(f"{path}: empty file (0 bytes); featrisk models are JSON text "
                             "written by model.save(path)")
    kind = None if raw.lstrip()[:1] in (b"{", b"[") else _binary_kind(raw)
    if kind is not None:
        raise ModelFileError(
            f"{path}: looks like a {kind} file. featrisk never unpickles files "
            "(unpickling can run arbitrary code); featrisk models are JSON text written by "
            "model.save(path). Load the object where it was made and call .save() on it."
        )


def read_document(path: Path) -> tuple[dict[str, Any], str]:
    """The manifest and booster text of the model file at ``path``, checked; raises
    :class:`~featrisk.errors.ModelFileError` or :class:`~featrisk.errors.SchemaError` as
    :func:`featrisk.persist.load` documents."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{p}: model file not found") from None
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read model file ({exc})") from exc
    _refuse_binary(p, raw)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{p}: not a valid featrisk model (truncated or not JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{p}: not a featrisk model (no 'format': '{FORMAT}' field)")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{p}: model file format {doc.get('format_version')} is not readable by this "
            f"featrisk (format {FORMAT_VERSION}); re-fit or upgrade featrisk"
        )
    booster_text, manifest = doc.get("booster"), doc.get("manifest")
    if not isinstance(booster_text, str) or not isinstance(manifest, dict):
        raise ModelFileError(f"{p}: model file lacks its booster or manifest")
    if _digest(booster_text) != doc.get("booster_sha256"):
        raise ModelFileError(f"{p}: checksum mismatch: the model text was altered or truncated")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SchemaError(
            f"{p}: model was trained on feature schema {manifest.get('schema_version')}, this "
            f"featrisk computes schema {SCHEMA_VERSION}; re-fit it on features from this version"
        )
    if "manifest_sha256" in doc and manifest_digest(manifest) != doc["manifest_sha256"]:
        raise ModelFileError(f"{p}: checksum mismatch: the model manifest was altered")
    return manifest, booster_text
