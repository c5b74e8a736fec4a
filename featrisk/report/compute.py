"""The numbers of a report: aggregations of the model's risks, contributions and outcomes.

Nothing here fits or scores anew: risks, reasons and TreeSHAP contributions come from the
model (:func:`featrisk.model.risk_table`, :meth:`RiskModel.explain`), every score from
:mod:`featrisk.metrics`. This module only groups, sorts and counts them into plain tables.
Convention as in :mod:`featrisk.metrics`: ``error`` is 1 where the classifier was wrong.
"""

from __future__ import annotations

import math
import os
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics, wording
from featrisk.extract import extract
from featrisk.model import RiskModel, risk_table
from featrisk.schema import feature_docs

#: Flag budgets of the threshold table (share of images flagged for review).
FLAG_RATES = (0.01, 0.02, 0.05, 0.10, 0.20, 0.30, 0.50)
#: Quantiles at which each feature is cut into one-sided conditions for failure segments.
SEGMENT_CUTS = (0.10, 0.25, 0.50, 0.75, 0.90)
#: Smallest share of images a failure segment must hold.
SEGMENT_MIN_SHARE = 0.03
#: z of the two-sided 95 % Wilson interval used to rank failure segments.
WILSON_Z = 1.959964


def scored(model: RiskModel, X: Any, extra: pd.DataFrame | None,
           *, n_jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Extract once, then the model's risks, contributions and the joined feature values.

    Returns
    -------
    (pred, contrib, values) : tuple of DataFrame
        Row-aligned: :func:`featrisk.model.risk_table` (path, risk, flagged, reasons,
        reason_features, error),
        :meth:`RiskModel.explain` (log-odds per feature, ``base_value``) and the design matrix
        (path, error and every feature and extra column).
    """
    model._check_fitted()
    table = X if isinstance(X, pd.DataFrame) else extract(X, n_jobs=n_jobs)
    values = model.inputs(table, extra=extra)  # one design matrix (and estimator pass) for all
    pred = risk_table(model, values)
    contrib = model.explain(values)
    return pred, contrib, values


def ranking(error: np.ndarray, risk: np.ndarray, *, groups: Any = None,
            n_boot: int = 1000) -> tuple[dict[str, Any] | None, str]:
    """:func:`featrisk.metrics.summary` with :data:`FLAG_RATES`, or None and why not."""
    n_err = int(error.sum())
    if n_err in (0, error.size):
        return None, (f"all {error.size} images were classified "
                      f"{'right' if n_err == 0 else 'wrong'}: ranking scores are undefined")
    return metrics.summary(error, risk, groups=groups, n_boot=n_boot, flag_rates=FLAG_RATES), ""


def chance_sentence(auroc: dict[str, float], who: str = "The risk score") -> str:
    """Plain words on whether an AUROC interval excludes 0.5."""
    lo, hi = auroc["low"], auroc["high"]
    span = f"AUROC {auroc['value']:.3f}, 95% interval {lo:.3f}-{hi:.3f}"
    if lo > 0.5:
        return f"{who} ranks errors above correct images better than chance ({span} excludes 0.5)."
    if hi < 0.5:
        return f"{who} ranks errors below correct images: worse than chance ({span} excludes 0.5)."
    return (f"{who} cannot be told apart from chance on these images ({span} includes 0.5); "
            "more images would narrow the interval.")


def operating_point(threshold: float, risk: np.ndarray, error: np.ndarray | None) -> dict[str, Any]:
    """What flagging ``risk >= threshold`` does on these images."""
    flagged = risk >= threshold
    out: dict[str, Any] = {"threshold": threshold, "n_flagged": int(flagged.sum()),
                           "flagged_share": float(flagged.mean())}
    if error is not None:
        n_err = error.sum()
        out["accepted_accuracy"] = float(1 - error[~flagged].mean()) if (~flagged).any() else math.nan
        out["errors_caught"] = float(error[flagged].sum() / n_err) if n_err else math.nan
    return out


def threshold_rows(model: RiskModel, risk: np.ndarray, error: np.ndarray | None,
                   budget: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Per flag budget: threshold and outcome on these images, and the model's own threshold.

    ``budget`` is :func:`featrisk.metrics.budget_table` on these images (from the summary)
    when outcomes are known. Without them the same tie rule picks thresholds from risk alone.
    """
    if budget is None:  # the flag thresholds do not depend on the outcomes
        budget = metrics.budget_table(np.zeros(risk.size), risk, flag_rates=FLAG_RATES)
        budget = budget[["flag_rate", "threshold", "n_flagged", "flagged_share"]]
        budget = budget.to_dict(orient="records")
    return [{**row, "model_threshold": model.threshold_for(flag_rate=row["flag_rate"])}
            for row in budget]


def target_row(model: RiskModel, target: float, risk: np.ndarray,
               error: np.ndarray | None) -> dict[str, Any]:
    """The model's threshold for a target accuracy (chosen on its training data), applied here."""
    try:
        thr = model.threshold_for(target_accuracy=target)
    except ValueError as exc:
        return {"target_accuracy": target, "threshold": None, "note": str(exc)}
    note = "all images together already reach it: flag nothing" if math.isinf(thr) else ""
    return {"target_accuracy": target, **operating_point(thr, risk, error), "note": note}


def importance(contrib: pd.DataFrame, model: RiskModel) -> pd.DataFrame:
    """Mean |TreeSHAP| (log-odds) per feature on these images, beside the training value."""
    names = model.feature_names_
    mean_abs = contrib[names].abs().mean(axis=0)
    frame = pd.DataFrame({"mean_abs_contribution": mean_abs,
                          "training_mean_abs_contribution": [model.mean_abs_contrib_[f] for f in names]},
                         index=pd.Index(names, name="feature"))
    return frame.sort_values("mean_abs_contribution", ascending=False, kind="stable")


def _bins(v: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin codes: one bin per value when there are few, else quantile bins (ties kept whole)."""
    uniq = np.unique(v)
    if uniq.size <= n_bins:
        return np.searchsorted(uniq, v)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)))
    return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, edges.size - 2)


def dependence(v: np.ndarray, risk: np.ndarray, error: np.ndarray | None,
               *, n_bins: int = 10) -> pd.DataFrame:
    """Error rate and mean risk across (up to) deciles of one feature."""
    codes = _bins(v, n_bins)
    frame = pd.DataFrame({"code": codes, "v": v, "risk": risk})
    if error is not None:
        frame["error"] = error
    agg = {"low": ("v", "min"), "high": ("v", "max"), "median": ("v", "median"),
           "count": ("v", "size"), "mean_risk": ("risk", "mean")}
    if error is not None:
        agg["error_rate"] = ("error", "mean")
    return frame.groupby("code").agg(**agg).reset_index(drop=True)


def fmt_value(x: float) -> str:
    """Short human form of a feature value."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    if abs(x) < 0.001:
        return f"{x:.2e}"
    return f"{x:.3g}"


def dependence_sentence(feature: str, dep: pd.DataFrame, by_error: bool) -> str:
    """e.g. "blur_x: error rate 41% in the lowest bin (<= 0.12) vs 9% in the highest (>= 0.85)"."""
    col, what = ("error_rate", "error rate") if by_error else ("mean_risk", "mean predicted risk")
    lo, hi = dep.iloc[0], dep.iloc[-1]
    ratio = ""
    if min(lo[col], hi[col]) > 0:
        r = max(lo[col], hi[col]) / min(lo[col], hi[col])
        ratio = f" ({r:.1f}x {'higher at the low end' if lo[col] > hi[col] else 'higher at the high end'})"
    return (f"{feature}: {what} {lo[col]:.0%} at the low end (<= {fmt_value(lo['high'])}) vs "
            f"{hi[col]:.0%} at the high end (>= {fmt_value(hi['low'])}){ratio}.")


def wilson_low(k: np.ndarray, n: np.ndarray, z: float = WILSON_Z) -> np.ndarray:
    """Lower end of the Wilson score interval of k successes in n trials."""
    n = np.maximum(n, 1)
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def _conditions(name: str, v: np.ndarray) -> list[tuple[str, np.ndarray]]:
    cuts = np.unique(np.quantile(v, SEGMENT_CUTS))
    out = []
    for c in cuts:
        below = v <= c
        if 0 < below.sum() < v.size:
            out.append((f"{name} <= {fmt_value(c)}", below))
            out.append((f"{name} > {fmt_value(c)}", ~below))
    return out


def segments(values: pd.DataFrame, features: list[str], risk: np.ndarray,
             error: np.ndarray | None, *, top: int = 5,
             min_share: float = SEGMENT_MIN_SHARE) -> list[dict[str, Any]]:
    """Two-feature ranges with the highest error rate (or mean risk without outcomes).

    Each feature is cut at its :data:`SEGMENT_CUTS` quantiles into one-sided conditions;
    every pair of conditions on two different features is a candidate cell holding at least
    ``min_share`` of the images (and 10). With outcomes, cells are ranked by the lower end of
    the 95 % Wilson interval of their error rate, so a large segment with a high rate
    outranks a small lucky one, and a pair must beat each of its two conditions alone. Cells
    overlapping an already chosen one by more than half (Jaccard) are skipped.
    """
    target = error.astype(float) if error is not None else risk
    n = target.size
    min_n = max(10, math.ceil(min_share * n))
    conds = {f: _conditions(f, values[f].to_numpy(np.float64)) for f in features}

    def score(k: np.ndarray, m: np.ndarray) -> np.ndarray:
        return wilson_low(k, m) if error is not None else k / np.maximum(m, 1)

    single = {label: float(score(np.array(target[mask].sum()), np.array(mask.sum())))
              for f in features for label, mask in conds[f]}
    cands = []
    for fa, fb in combinations(features, 2):
        if not conds[fa] or not conds[fb]:
            continue
        a = np.array([m for _, m in conds[fa]], dtype=np.float64)
        b = np.array([m for _, m in conds[fb]], dtype=np.float64)
        count, hits = a @ b.T, (a * target) @ b.T
        s = score(hits, count)
        for i, j in zip(*np.nonzero(count >= min_n), strict=True):
            la, lb = conds[fa][i][0], conds[fb][j][0]
            if s[i, j] > max(single[la], single[lb]):
                cands.append((float(s[i, j]), fa, i, fb, j))
    cands.sort(key=lambda c: -c[0])
    chosen: list[dict[str, Any]] = []
    masks: list[np.ndarray] = []
    for sc, fa, i, fb, j in cands:
        mask = conds[fa][i][1] & conds[fb][j][1]
        if any((mask & m).sum() / (mask | m).sum() > 0.5 for m in masks):
            continue
        masks.append(mask)
        row = {"conditions": [conds[fa][i][0], conds[fb][j][0]], "features": [fa, fb],
               "count": int(mask.sum()), "share": float(mask.mean()),
               "mean_risk": float(risk[mask].mean())}
        if error is not None:
            row.update(errors=int(error[mask].sum()), error_rate=float(error[mask].mean()),
                       error_rate_low=sc)
        chosen.append(row)
        if len(chosen) == top:
            break
    return chosen


def gallery(pred: pd.DataFrame, error: np.ndarray | None, *, k: int = 8) -> dict[str, list[dict]]:
    """Riskiest, safest and (with outcomes) surprising images: low risk yet misclassified.

    Each row carries ``reasons`` in words and, when ``pred`` has them, their column names
    (``reason_features``).
    """
    ok = pred["risk"].notna().to_numpy()
    shown = ["path", "risk", "reasons", *(["reason_features"] if "reason_features" in pred else [])]
    frame = pred.loc[ok, shown].copy()
    if error is not None:
        frame["correct"] = error[ok] == 0
    frame = frame.sort_values("risk", kind="stable")

    def rows(f: pd.DataFrame) -> list[dict]:
        return [{**r, "name": os.path.basename(str(r["path"]))} for r in f.to_dict(orient="records")]

    out = {"riskiest": rows(frame.iloc[::-1].head(k)), "safest": rows(frame.head(k))}
    if error is not None:
        out["surprises"] = rows(frame[~frame["correct"]].head(k))
    return out


def curve(error: np.ndarray, risk: np.ndarray, *, points: int = 200) -> dict[str, list[float]]:
    """Risk-coverage curve of :func:`featrisk.metrics.risk_coverage`, thinned for JSON."""
    rc = metrics.risk_coverage(error, risk)
    if len(rc) > points:
        keep = np.unique(np.r_[np.searchsorted(rc["coverage"], np.linspace(0, 1, points)[1:]),
                               len(rc) - 1].clip(0, len(rc) - 1))
        rc = rc.iloc[keep]
    return {"coverage": rc["coverage"].tolist(), "risk": rc["risk"].tolist()}


def oracle_curve(error: np.ndarray, *, points: int = 200) -> dict[str, list[float]]:
    """Best reachable risk-coverage curve: every correct image accepted first."""
    n, m = error.size, int(error.sum())
    cov = np.linspace(1 / n, 1, min(points, n))
    accepted = np.maximum(np.round(cov * n), 1)
    return {"coverage": cov.tolist(),
            "risk": (np.maximum(accepted - (n - m), 0) / accepted).tolist()}


def feature_reference(names: list[str]) -> list[dict[str, Any]]:
    """:func:`featrisk.feature_docs` rows for ``names`` (extra columns get a short stub)."""
    docs = feature_docs()
    out = []
    for f in names:
        if f in docs.index:
            out.append({"feature": f, **docs.loc[f].to_dict()})
        else:
            low, high = wording.phrases(f)
            out.append({"feature": f, "family": "extra", "unit": "", "range": "", "worse": "",
                        "doc": "Extra column passed with extra= (not an image feature).",
                        "low": low, "high": high})
    return out


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN and inf to None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
