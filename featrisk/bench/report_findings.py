"""What an outcome set's numbers say: the targets, each checked, and where featrisk is weak."""

from __future__ import annotations

from typing import Any

from featrisk.bench.report_common import _ci


def targets(res: dict[str, Any]) -> list[str]:
    """The issue's targets, each checked against the measured numbers."""
    m = res["methods"]
    a = {k: v["auroc"]["value"] for k, v in m.items()}
    rules = [k for k in a if k.startswith("cleanvision_")]
    hybrid = max(a["featrisk_hybrid_stack"], a["featrisk_hybrid_lgbm"])
    checks = [
        (f"image-only AUROC >= 0.97 x oracle ({0.97 * a['oracle']:.3f})",
         a["featrisk"] >= 0.97 * a["oracle"]),
        (f"best hybrid ({hybrid:.3f}) >= max-softmax ({a['max_softmax']:.3f})", hybrid >= a["max_softmax"]),
        (f"image-only beats properties model by >= 0.05 ({a['featrisk'] - a['properties']:+.3f})",
         a["featrisk"] - a["properties"] >= 0.05),
        (f"image-only beats every CleanVision-style rule by >= 0.10 (closest "
         f"{a['featrisk'] - max(a[r] for r in rules):+.3f})",
         all(a["featrisk"] - a[r] >= 0.10 for r in rules)),
        (f"image-only ECE < 0.03 ({m['featrisk']['ece']['value']:.3f})",
         m["featrisk"]["ece"]["value"] < 0.03),
    ]
    d = res.get("hybrid_minus_softmax")
    if d:
        checks.append((f"hybrid (stack) minus max-softmax AUROC {_ci(d)}: interval excludes zero",
                       d["low"] > 0))
    d = res.get("featrisk_minus_oracle")
    if d:
        where = ("the interval includes zero: not told apart from the oracle"
                 if d["low"] <= 0 <= d["high"] else
                 "the interval excludes zero")
        checks.append((f"image-only minus oracle AUROC {_ci(d)} >= 0 ({where})",
                       d["value"] >= 0))
    core = res.get("core_subset")
    if core and core.get("before"):
        checks.append((f"on the images of the first fourteen `featrisk.degrade` families and the "
                       f"clean ones ({core['n']} images), image-only AUROC {core['featrisk']:.3f} "
                       f"(oracle {core['oracle']:.3f}) >= {core['before']:.3f}, the whole set's "
                       "figure before the thirteen newer families (schema 3 run of 2026-12-03)",
                       core["featrisk"] >= core["before"]))
        if "featrisk_fitted_on_subset" in core:
            lo, hi = core["featrisk_fitted_on_subset_ci"]
            checks.append((f"the same images with the recipe fitted on them alone, like for like "
                           f"with that run: AUROC {core['featrisk_fitted_on_subset']:.3f} "
                           f"[{lo:.3f}, {hi:.3f}] >= {core['before']:.3f}",
                           core["featrisk_fitted_on_subset"] >= core["before"]))
    rows = res.get("heldout_families") or []
    if rows:
        at = [r for r in rows if r["featrisk"] >= 0.65]
        checks.append((f"every held-out family at AUROC 0.65 or more ({len(at)} of {len(rows)})",
                       len(at) == len(rows)))
        if all("oracle" in r for r in rows):  # reports before the ceiling lack it
            reach = [r for r in rows if r["oracle"] >= 0.65]
            met = sum(r["featrisk"] >= 0.65 for r in reach)
            checks.append((f"every held-out family whose oracle ceiling reaches 0.65 at 0.65 or "
                           f"more ({met} of {len(reach)})", met == len(reach)))
    return [f"- [{'x' if ok else ' '}] {text}" for text, ok in checks]


def weaknesses(res: dict[str, Any]) -> list[str]:
    """Where featrisk is weak, in sentences made from the measured numbers."""
    fam = {row["family"]: row for row in res["by_family"]}
    clean = fam.get("none (clean)")
    lines = []
    if clean:
        lines.append(
            f"- Clean images (natural failures): the classifier errs on {clean['error_rate']:.1%} "
            f"of them; within them featrisk's AUROC is {clean['featrisk']:.3f} against "
            f"{clean['max_softmax']:.3f} for the classifier's own max-softmax. Image statistics "
            "cannot see what the picture shows, so natural failures stay close to chance.")
    gaps = sorted(((row["oracle"] - row["featrisk"], name) for name, row in fam.items()
                   if name != "none (clean)" and row["oracle"] == row["oracle"]
                   and row["oracle"] > row["featrisk"]), reverse=True)
    if gaps:
        worst = ", ".join(f"{name} ({fam[name]['featrisk']:.3f} vs oracle {fam[name]['oracle']:.3f})"
                          for _, name in gaps[:3])
        lines.append(f"- Largest gaps to the oracle within a family: {worst}: there the features "
                     "tell the severity of the degradation less well than knowing it does.")
    else:
        lines.append("- Within every degradation family featrisk ranks at least as well as the "
                     "oracle.")
    m = res["methods"]
    if "featrisk_estimator_only" in m:
        est, full = (m[k]["auroc"]["value"] for k in ("featrisk_estimator_only", "featrisk"))
        share = (est - 0.5) / (full - 0.5) if full > 0.5 else float("nan")
        lines.append(
            f"- The degradation estimator's outputs alone give AUROC {est:.3f}, against "
            f"{full:.3f} with every feature beside them ({share:.0%} of image-only featrisk's "
            "AUROC above chance)" + (
                ": the risk model's signal is almost all in what the estimator says went "
                "wrong and how badly." if share >= 0.97 else "."))
    d = res.get("denoise_gain")
    if d:
        lines.append(
            f"- Learning from targets blended half and half with a teacher's risk "
            f"(denoise=0.5) instead of the outcomes alone changes AUROC by "
            f"{d['value']:+.4f} [{d['low']:+.4f}, "
            f"{d['high']:+.4f}] (paired bootstrap over sources"
            + ("; the interval includes zero)." if d["low"] <= 0 <= d["high"] else ")."))
    if "featrisk_true_degradation" in m:
        lines.append(_estimator_ceiling_line(m))
    if "cells" in res:
        lines.append(_cells_line(res["cells"]))
    lines.append(
        f"- The classifier's own max-softmax ({m['max_softmax']['auroc']['value']:.3f}) "
        f"{'beats' if m['max_softmax']['auroc']['value'] > m['featrisk']['auroc']['value'] else 'trails'} "
        f"image-only featrisk ({m['featrisk']['auroc']['value']:.3f}) here; image-only featrisk "
        "runs before the classifier, and the hybrid combines both.")
    return lines


def _estimator_ceiling_line(m: dict[str, Any]) -> str:
    """What a perfect degradation estimator would buy, against the gap to the oracle."""
    told, full = (m[k]["auroc"]["value"] for k in ("featrisk_true_degradation", "featrisk"))
    oracle = m["oracle"]["auroc"]["value"] if "oracle" in m else float("nan")
    line = (f"- Told each image's true degradation and severity in place of the estimator's "
            f"outputs, the same risk model reaches {told:.3f} ({told - full:+.3f}): that is "
            "about what a perfect degradation estimator would buy")
    gap = oracle - full
    if gap > 0 and told - full < 0.5 * gap:
        return line + (f", less than half of the {gap:.3f} to the oracle. The rest lies in "
                       "how the risk model learns from the outcomes, so closing it needs a "
                       "better-fitted risk model more than better estimates.")
    return line + "."


def _cells_line(cells: dict[str, dict[str, float]]) -> str:
    """Between- and within-cell ranking: where image-only featrisk's signal is, and is not."""
    f, soft = cells["featrisk"], cells.get("max_softmax")
    line = (f"- Per (degradation, severity) cell: featrisk's scores averaged over each cell rank "
            f"the cells at AUROC {f['between']:.3f} (no score that is constant within cells "
            f"can exceed {f['cell_rates']:.3f} here, the AUROC of the cells' own error rates); "
            f"within one cell it ranks failures at {f['within']:.3f}")
    if soft:
        line += f" (the classifier's max-softmax {soft['within']:.3f})"
    if f["within"] < 0.55:
        line += (". Image statistics say little about which images of one cell fail; "
                 "featrisk's spread within a cell is mostly the error of its estimate of the "
                 "damage, and that spread is what costs AUROC against the oracle, which knows "
                 "every cell exactly.")
    else:
        line += ": the image statistics also tell which images of one cell fail."
    return line
