"""Feature-importance reports: one self-contained HTML file, plus the same numbers as JSON.

:func:`report` scores images with a fitted :class:`~featrisk.RiskModel`, aggregates the
risks, TreeSHAP contributions and (when given) the classifier's outcomes
(:mod:`featrisk.report.compute`), draws figures (:mod:`featrisk.report.plots`, needs the
``featrisk[report]`` extra for matplotlib) and renders one HTML page with everything
embedded (:mod:`featrisk.report.render`). :func:`write_junit` turns the numbers into a CI
verdict. ``featrisk.report`` at the package top level is this module's :func:`report`
function, so code inside this package imports its submodules by full name.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics, stack
from featrisk.model import RiskModel, outcomes_from
from featrisk.report import compute
from featrisk.report.junit import write_junit

__all__ = ["build_report", "json_path_for", "report", "write_junit"]

#: Features in the beeswarm, the dependence plots and the segment search.
TOP_SWARM, TOP_DEPENDENCE, TOP_SEGMENTS = 12, 6, 8


def json_path_for(out: str | os.PathLike[str]) -> Path:
    """The JSON file written beside an HTML report: ``report.html`` -> ``report.json``."""
    p = Path(out)
    return p.with_name(p.stem + ".json")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _numbers(model: RiskModel, pred: pd.DataFrame, contrib: pd.DataFrame, values: pd.DataFrame,
             error: np.ndarray | None, groups: Any, target_accuracy: float | None,
             n_boot: int) -> dict[str, Any]:
    """Every number of the report, on the readable images (rows of ``pred`` with a risk)."""
    risk = pred["risk"].to_numpy(np.float64)
    d: dict[str, Any] = {"has_outcomes": error is not None,
                         "error_rate": None if error is None else float(error.mean()),
                         "mean_risk": float(risk.mean()), "max_softmax": None,
                         "summary_note": "no outcomes were given (correct=)", "chance": ""}
    d["summary"], note = (compute.ranking(error, risk, groups=groups, n_boot=n_boot)
                          if error is not None else (None, d["summary_note"]))
    d["summary_note"] = note or ""
    if d["summary"] is not None:
        d["chance"] = compute.chance_sentence(d["summary"]["auroc"])
        if "softmax_max_prob" in values.columns:
            soft = 1.0 - values["softmax_max_prob"].to_numpy(np.float64)
            d["max_softmax"], _ = compute.ranking(error, soft, groups=groups, n_boot=n_boot)
            d["softmax_chance"] = compute.chance_sentence(d["max_softmax"]["auroc"],
                                                          "The classifier's max-softmax score")
    budget = d["summary"]["budget_table"] if d["summary"] else None
    d["thresholds"] = compute.threshold_rows(model, risk, error, budget)
    d["default"] = compute.operating_point(model.threshold_, risk, error)
    d["target"] = (None if target_accuracy is None
                   else compute.target_row(model, target_accuracy, risk, error))
    d["risk_coverage"] = None
    if d["summary"] is not None:
        d["risk_coverage"] = {"featrisk risk": compute.curve(error, risk)}
        if d["max_softmax"]:
            soft = 1.0 - values["softmax_max_prob"].to_numpy(np.float64)
            d["risk_coverage"]["classifier max-softmax"] = compute.curve(error, soft)
        d["risk_coverage"]["oracle (best possible)"] = compute.oracle_curve(error)
    imp = compute.importance(contrib, model)
    top = imp.index.tolist()
    d["importance"] = imp.reset_index().to_dict(orient="records")
    d["base_value"] = float(contrib["base_value"].iloc[0])
    d["dependence"] = {}
    for f in top[:TOP_DEPENDENCE]:
        dep = compute.dependence(values[f].to_numpy(np.float64), risk, error)
        d["dependence"][f] = {"bins": dep.to_dict(orient="records"),
                              "sentence": compute.dependence_sentence(f, dep, error is not None)}
    d["segments"] = compute.segments(values, top[:TOP_SEGMENTS], risk, error)
    d["calibration"] = None
    if d["summary"] is not None:
        d["calibration"] = metrics.calibration_table(error, risk).to_dict(orient="records")
    d["gallery"] = compute.gallery(pred, error)
    d["top_features"] = top[:TOP_SWARM]
    d["features"] = compute.feature_reference(top)
    return d


def report(model: RiskModel, X: Any, correct: Any = None, *,
           out: str | os.PathLike[str] = "featrisk-report.html",
           extra: pd.DataFrame | None = None, title: str | None = None,
           target_accuracy: float | None = None, images: bool = True, groups: Any = None,
           n_boot: int = 1000, n_jobs: int = 1) -> dict[str, Any]:
    """Write an HTML feature-importance report and the same numbers as JSON beside it.

    Parameters
    ----------
    model : RiskModel
        A fitted model (``featrisk.fit`` or ``featrisk.load``).
    X : list of paths or DataFrame
        Images to report on, or the table :func:`featrisk.extract` returned for them. Use
        images the model was not fitted on for honest scores.
    correct : array-like of bool, optional
        True where the classifier was right, row-aligned with ``X``. Without it the report
        shows risks, reasons and importance but no accuracy figures.
    out : path-like, default "featrisk-report.html"
        The HTML file; the JSON goes beside it as ``<stem>.json``. Both are replaced.
    extra : DataFrame, optional
        Extra columns the model was fitted with; when it holds ``softmax_max_prob``, the
        classifier's max-softmax score is scored beside the risk.
    title : str, optional
        Page title (default: "featrisk report: N images").
    target_accuracy : float in (0, 1], optional
        Also report the model's threshold for this accuracy of the accepted images.
    images : bool, default True
        Embed thumbnails (decoded from the paths) in the gallery.
    groups : array-like, optional
        Source-image id per row, for grouped bootstrap intervals.
    n_boot : int, default 1000
        Bootstrap resamples per interval.
    n_jobs : int, default 1
        Extraction workers when ``X`` holds paths.

    Returns
    -------
    dict
        The numbers written to the JSON file (NaN and inf as None).
    """
    from featrisk.report import plots, render, thumbs  # plots raises naming the pip extra

    html_path = Path(out)
    json_path = json_path_for(html_path)
    if html_path.suffix.lower() == ".json":
        raise ValueError(f"out must be the HTML file (e.g. report.html); received {html_path}")
    pred, contrib, values = compute.scored(model, X, extra, n_jobs=n_jobs)
    ok = pred["risk"].notna().to_numpy()
    if not ok.any():
        raise ValueError(f"none of the {len(pred)} images could be read; first error: "
                         f"{pred['error'].iloc[0] if len(pred) else 'no images given'}")
    error = None
    if correct is not None:
        error = outcomes_from(correct)
        if len(error) != len(pred):
            raise ValueError(f"correct has {len(error)} values but X has {len(pred)} images")
        error = error[ok].astype(np.int8)
    grp = None if groups is None else np.asarray(groups)
    if grp is not None:
        if len(grp) != len(pred):
            raise ValueError(f"groups has {len(grp)} values but X has {len(pred)} images")
        grp = grp[ok]
    pred_ok, contrib_ok = pred[ok].reset_index(drop=True), contrib[ok].reset_index(drop=True)
    values_ok = values[ok].reset_index(drop=True)
    d = {"title": title or f"featrisk report: {len(pred)} images",
         "created": datetime.now(UTC).isoformat(timespec="seconds"),
         "featrisk_version": _version(), "schema_version": _schema(),
         "profile": str(getattr(model, "profile", "default")),
         "json_name": json_path.name, "n_images": int(len(pred)), "n_scored": int(ok.sum()),
         "n_unreadable": int((~ok).sum()),
         "unreadable_example": str(pred.loc[~ok, "error"].iloc[0]) if (~ok).any() else None,
         "model": dict(getattr(model, "training_summary_", {})),
         "classifier_inputs": _classifier_inputs(model)}
    d.update(_numbers(model, pred_ok, contrib_ok, values_ok, error, grp, target_accuracy, n_boot))
    d = compute.jsonable(d)
    imp = pd.DataFrame(d["importance"]).set_index("feature")
    units = {r["feature"]: r["unit"] for r in d["features"]}
    deps = {f: pd.DataFrame(v["bins"]) for f, v in d["dependence"].items()}
    risk = pred_ok["risk"].to_numpy(np.float64)
    cal = pd.DataFrame(d["calibration"]) if d["calibration"] else None
    figs = {
        "importance": plots.importance_bar(imp, set(model.extra_columns_)),
        "beeswarm": plots.beeswarm(contrib_ok, values_ok, d["top_features"]),
        "dependence": plots.dependence_grid(deps, units, error is not None),
        "calibration": plots.calibration(cal, risk),
    }
    if d["risk_coverage"]:
        figs["risk_coverage"] = plots.risk_coverage(d["risk_coverage"], d["error_rate"])
    shown = {r["path"] for rows in d["gallery"].values() for r in rows}
    tn = {p: thumbs.thumbnail(p) for p in sorted(shown)} if images else {}
    _write(html_path, render.render(d, figs, tn))
    _write(json_path, json.dumps(d, indent=1, allow_nan=False))
    return d


#: Alias of :func:`report`, for code where ``featrisk.report`` names the package.
build_report = report


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("featrisk")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _schema() -> str:
    from featrisk.schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def _classifier_inputs(model: Any) -> list[str]:
    """The classifier-signal columns (``softmax_*``, ``signal_*``) the model reads: as booster
    inputs or through its hybrid stack. Empty for an image-only model."""
    cols = [c for c in getattr(model, "extra_columns_", []) if stack.is_signal(c)]
    hybrid = getattr(model, "hybrid_", None)
    return cols + [c for c in (hybrid or {}).get("columns", []) if c not in cols]
