"""Report figures as PNG data URIs, drawn on :class:`matplotlib.figure.Figure` (no pyplot state).

matplotlib is the optional extra ``featrisk[report]``; it is imported here only. Colours are
the same in every figure: predicted risk red, observed error rate dark grey, the classifier's
max-softmax score teal, references (oracle, chance) light grey.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd

from featrisk.report.compute import fmt_value

try:
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'featrisk reports need matplotlib: pip install "featrisk[report]"'
    ) from exc

RISK = "#c8384b"
ERROR = "#33363d"
SOFTMAX = "#1b7f8c"
REFERENCE = "#9aa1ad"
#: Output resolution of every figure (pixels per inch).
DPI = 96
#: Most points drawn per feature in the beeswarm (a seeded subsample beyond this).
SWARM_POINTS = 1500


def _uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(w: float, h: float, **kw: Any) -> Figure:
    fig = Figure(figsize=(w, h), layout="constrained", **kw)
    fig.set_facecolor("white")
    return fig


def _axis_name(feature: str, unit: str) -> str:
    return f"{feature} ({unit})" if unit else feature


def importance_bar(imp: pd.DataFrame, extra: set[str], *, top: int = 20) -> str:
    """Horizontal bars of mean |TreeSHAP| (log-odds); extra (non-image) columns in teal."""
    head = imp.head(top).iloc[::-1]
    fig = _figure(8.5, 0.28 * len(head) + 1.2)
    ax = fig.add_subplot()
    colours = [SOFTMAX if f in extra else RISK for f in head.index]
    ax.barh(np.arange(len(head)), head["mean_abs_contribution"], color=colours)
    ax.set_yticks(np.arange(len(head)), head.index, fontsize=9)
    ax.set_xlabel("mean |TreeSHAP contribution| on these images (log-odds of misclassification)")
    ax.set_title(f"Global importance: top {len(head)} features")
    ax.grid(axis="x", alpha=0.3)
    return _uri(fig)


def _swarm_offsets(x: np.ndarray, *, bins: int = 60, half_height: float = 0.4) -> np.ndarray:
    """Vertical offsets stacking points with similar x into a symmetric swarm."""
    if x.size == 0:
        return x
    span = np.ptp(x) or 1.0
    b = np.floor((x - x.min()) / span * (bins - 1)).astype(int)
    order = np.argsort(b, kind="stable")
    offsets = np.zeros(x.size)
    starts = np.flatnonzero(np.r_[True, b[order][1:] != b[order][:-1]])
    for s, e in zip(starts, np.r_[starts[1:], x.size], strict=True):
        k = np.arange(e - s)
        offsets[order[s:e]] = np.where(k % 2, (k + 1) // 2, -(k // 2))
    top = np.abs(offsets).max() or 1.0
    return offsets / top * half_height


def beeswarm(contrib: pd.DataFrame, values: pd.DataFrame, features: list[str]) -> str:
    """Contribution (x) of each image for the top features, coloured by the value's rank."""
    rng = np.random.default_rng(0)
    fig = _figure(8.5, 0.5 * len(features) + 1.4)
    ax = fig.add_subplot()
    sc = None
    for row, f in enumerate(features):
        x = contrib[f].to_numpy(np.float64)
        rank = values[f].rank(pct=True).to_numpy()
        keep = np.flatnonzero(np.isfinite(x))
        if keep.size > SWARM_POINTS:
            keep = np.sort(rng.choice(keep, SWARM_POINTS, replace=False))
        y = len(features) - 1 - row + _swarm_offsets(x[keep])
        sc = ax.scatter(x[keep], y, c=rank[keep], cmap="coolwarm", vmin=0, vmax=1, s=6,
                        linewidths=0, alpha=0.8, rasterized=True)
    ax.axvline(0, color=REFERENCE, lw=1)
    ax.set_yticks(np.arange(len(features)), features[::-1], fontsize=9)
    ax.set_xlabel("TreeSHAP contribution (log-odds; > 0 raises the risk)")
    ax.set_title("Each dot is one image: how its feature value moved its risk")
    if sc is not None:
        bar = fig.colorbar(sc, ax=ax, pad=0.01, aspect=30, ticks=[0, 1])
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("feature value (rank among these images)")
    ax.grid(axis="x", alpha=0.3)
    return _uri(fig)


def dependence_grid(deps: dict[str, pd.DataFrame], units: dict[str, str], has_error: bool) -> str:
    """Error rate and mean predicted risk across bins of each top feature, one panel each.

    Bins are evenly spaced on the x axis (ticks name their median value), so a skewed
    feature does not crowd its bins into one corner.
    """
    n = len(deps)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = _figure(3.3 * cols, 2.7 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (f, dep) in zip(axes, deps.items(), strict=False):
        x = np.arange(len(dep))  # evenly spaced bins (medians on the ticks): skew stays readable
        if has_error:
            ax.plot(x, 100 * dep["error_rate"], "o-", color=ERROR, ms=4, label="observed error rate")
        ax.plot(x, 100 * dep["mean_risk"], "s--", color=RISK, ms=3, label="mean predicted risk")
        step = max(1, int(np.ceil(len(dep) / 6)))
        ax.set_xticks(x[::step], [fmt_value(v) for v in dep["median"].to_numpy()[::step]])
        ax.set_title(f, fontsize=10)
        ax.set_xlabel(_axis_name("bin median", units.get(f, "")), fontsize=8)
        ax.set_ylabel("% of images", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=2, fontsize=9)
    return _uri(fig)


def risk_coverage(curves: dict[str, dict[str, list[float]]], base_rate: float) -> str:
    """Error rate of the accepted images against the share accepted (lowest risk first)."""
    style = {"featrisk risk": (RISK, "-"), "classifier max-softmax": (SOFTMAX, "-"),
             "oracle (best possible)": (REFERENCE, "--")}
    fig = _figure(6.5, 4.2)
    ax = fig.add_subplot()
    for name, c in curves.items():
        colour, ls = style.get(name, (ERROR, "-"))
        ax.plot(100 * np.asarray(c["coverage"]), 100 * np.asarray(c["risk"]), ls, color=colour,
                lw=2 if name == "featrisk risk" else 1.5, label=name)
    ax.axhline(100 * base_rate, color=REFERENCE, ls=":", label="random order (base error rate)")
    ax.set_xlabel("coverage: % of images accepted (lowest risk first)")
    ax.set_ylabel("error rate of accepted images (%)")
    ax.set_title("Risk-coverage: flag the riskiest, keep the rest")
    ax.set_xlim(0, 100)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _uri(fig)


def calibration(table: pd.DataFrame | None, risk: np.ndarray) -> str:
    """Reliability diagram (mean risk vs observed error rate per bin, with counts) over a histogram."""
    if table is None:
        fig = _figure(6.5, 2.8)
        hist = fig.add_subplot()
    else:
        fig = _figure(6.5, 5.6)
        ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        ax.plot([0, 100], [0, 100], "--", color=REFERENCE, label="perfect calibration")
        x, y = 100 * table["mean_risk"], 100 * table["error_rate"]
        ax.plot(x, y, "-", color=ERROR, lw=1)
        ax.scatter(x, y, s=20 + 200 * table["count"] / table["count"].max(), color=RISK,
                   zorder=3, label="bins (area ~ images)")
        for xi, yi, ci in zip(x, y, table["count"], strict=True):
            ax.annotate(f"n={ci}", (xi, yi), textcoords="offset points", xytext=(6, -10), fontsize=7)
        ax.set_ylabel("observed error rate (%)")
        ax.set_ylim(0, 100)
        ax.set_title("Calibration: predicted risk vs observed error rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    hist.hist(100 * risk, bins=np.linspace(0, 100, 41), color=RISK, alpha=0.8)
    hist.set_xlabel("predicted risk (%)")
    hist.set_ylabel("images")
    hist.set_xlim(0, 100)
    if table is None:
        hist.set_title("Distribution of predicted risk")
    return _uri(fig)
