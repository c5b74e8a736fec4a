"""Saving and loading RiskModels as one JSON text file (:mod:`featrisk.modelfile`).

:func:`save` writes a fitted model (the same as :meth:`RiskModel.save
<featrisk.RiskModel.save>`); :func:`load` reads the file, refusing pickles unread, and
rebuilds the model from its manifest and booster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from featrisk.atypicality import Atypicality
from featrisk.errors import ModelFileError
from featrisk.model import RiskModel
from featrisk.modelfile import calibration_from, estimator_digest, hybrid_from, read_document, save
from featrisk.schema import FILE_COLUMNS

__all__ = ["load", "save"]


def load(path: str | os.PathLike[str]) -> RiskModel:
    """Read a model written by :meth:`RiskModel.save` / :func:`featrisk.save`.

    Raises
    ------
    ModelFileError
        The file is missing, not JSON (e.g. a pickle, which is refused unread), truncated,
        altered (checksum mismatch), or not a featrisk model.
    SchemaError
        The model was trained on another feature schema version.
    """
    p = Path(path)
    manifest, booster_text = read_document(p)
    try:
        return _from_manifest(manifest, lgb.Booster(model_str=booster_text))
    except ModelFileError as exc:
        raise ModelFileError(f"{p}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError, lgb.basic.LightGBMError) as exc:
        raise ModelFileError(f"{p}: model manifest is incomplete or altered "
                             f"({type(exc).__name__}: {exc}); re-save the model") from exc


def _from_manifest(m: dict[str, Any], booster: lgb.Booster) -> RiskModel:
    # files saved before ``denoise`` existed were fitted on the outcomes alone
    model = RiskModel(**{"degradation": None, "denoise": 0.0, **m["params"]})
    model.booster_ = booster
    model.feature_names_ = list(m["feature_names"])
    model.extra_columns_ = list(m["extra_columns"])
    model.calibration_ = (float(m["calibration"]["a"]), float(m["calibration"]["b"]))
    model.stack_ = calibration_from(m["calibration"], model.feature_names_)
    model.hybrid_ = hybrid_from(m.get("hybrid"))  # absent from files saved before the stack
    model.threshold_ = float(m["threshold"])
    model.n_estimators_ = int(m["n_estimators"])
    model.training_summary_ = dict(m["training_summary"])
    model.feature_quantiles_ = {k: list(v) for k, v in m["feature_quantiles"].items()}
    model.mean_abs_contrib_ = dict(m["mean_abs_contribution"])
    fill = m.get("file_fill")  # absent from files saved before in-memory inputs: the same
    model.file_fill_ = ({k: float(v) for k, v in fill.items()} if fill is not None else {
        k: (q[1] + q[2]) / 2 for k, q in model.feature_quantiles_.items() if k in FILE_COLUMNS})
    atyp = m.get("atypicality")  # absent from files saved before featrisk stored it
    model.atypicality_ = None if atyp is None else Atypicality.from_dict(atyp)
    if atyp is not None and not set(model.atypicality_.columns_) <= set(model.feature_names_):
        raise ModelFileError("model file's atypicality reference names unknown features")
    model.oof_risk_ = np.asarray(m["oof"]["risk"], dtype=np.float64)
    model.oof_error_ = np.asarray(m["oof"]["error"], dtype=np.int8)
    if booster.feature_name() != model.feature_names_:
        raise ModelFileError("model file's booster and manifest disagree on feature names")
    if estimator_digest(model) != m.get("degradation_sha256"):
        raise ModelFileError(
            "model was fitted with another degradation estimator than the one this featrisk "
            "ships; re-fit it with this version"
        )
    return model
