"""BENCHMARKS.md section of the independent outcome set (damage featrisk never generated)."""

from __future__ import annotations

from typing import Any

LABELS = {
    "featrisk": "featrisk, image only, fitted on this set's outcomes (headline)",
    "featrisk_direct": "featrisk, image only, features alone (degradation=None)",
    "featrisk_hybrid_lgbm": "featrisk hybrid: LightGBM on features + softmax scores",
    "featrisk_hybrid_stack": "featrisk hybrid: logistic stack of image risk + max-softmax",
    "oracle": "damage oracle (knows each image's damage and severity; a ceiling)",
    "default_model": ("shipped default recipe, never fitted on this set (trained on the "
                      "`imagenet` set's other photos; what `featrisk.predict(paths)` runs)"),
    "default_atypicality": "its atypicality",
    "default_core_families": ("the same recipe taught only the first fourteen "
                              "`featrisk.degrade` families"),
    "max_softmax": "classifier max-softmax (1 - p_max)",
}


def _ci(m: dict[str, float] | None) -> str:
    if m is None:
        return "n/a"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def _at(s: dict[str, Any], rate: float, key: str) -> str:
    rows = [r for r in s["budget_table"] if abs(r["flag_rate"] - rate) < 1e-9]
    return f"{rows[0][key]:.1%}" if rows else "n/a"


def _check(ok: bool) -> str:
    return "[x]" if ok else "[ ]"


def targets(res: dict[str, Any]) -> list[str]:
    """The issue's targets on this set, each with its measured value."""
    m, d = res["methods"], res["differences"]
    fitted, oracle = m["featrisk"]["auroc"]["value"], m["oracle"]["auroc"]["value"]
    default = m["default_model"]
    lines = [
        f"- {_check(fitted >= oracle - 0.01)} fitted image-only AUROC {fitted:.3f} >= oracle "
        f"{oracle:.3f} - 0.01 (difference {_ci(d['featrisk_minus_oracle'])})",
        f"- {_check(default['auroc']['value'] >= fitted - 0.05)} default recipe (unfitted) AUROC "
        f"{default['auroc']['value']:.3f} within 0.05 of the fitted one (difference "
        f"{_ci(d['default_minus_featrisk'])})",
        f"- {_check(default['ece']['value'] <= 0.05)} default recipe ECE "
        f"{default['ece']['value']:.3f} <= 0.05",
        f"- {_check(res['default_batch_mae'] <= 0.08)} default recipe: mean absolute gap "
        f"between each (damage, severity) batch's error rate and its mean risk "
        f"{res['default_batch_mae']:.3f} <= 0.08",
    ]
    if "default_minus_core_families" in d:
        lines.append(f"- (no target) the default recipe's AUROC gain from the nine newer "
                     f"`featrisk.degrade` families: {_ci(d['default_minus_core_families'])}")
    if "arrays_minus_files" in d:
        arr = m["default_model_arrays"]
        lines.append(f"- (no target) the default recipe given the images as decoded arrays (no "
                     f"file facts; filled as a model fills them): AUROC {arr['auroc']['value']:.3f}, "
                     f"ECE {arr['ece']['value']:.3f}; minus the files' AUROC "
                     f"{_ci(d['arrays_minus_files'])}")
    for key, name in (("hybrid_stack_minus_softmax", "logistic stack"),
                      ("hybrid_lgbm_minus_softmax", "LightGBM hybrid")):
        lines.append(f"- {_check(d[key]['value'] >= 0)} {name} minus max-softmax AUROC "
                     f"{_ci(d[key])} >= 0")
    return lines


def section(name: str, res: dict[str, Any], provenance: list[str]) -> list[str]:
    """The whole section: summary, methods, targets, per-damage and per-batch tables."""
    out = [f"## {name}: damage featrisk never generated (headline)", "",
           res.get("description", ""), "", *provenance,
           f"{res['n_images']} images from {res['n_sources']} source photos, {res['n_damages']} "
           f"damage families; classifier error rate {res['error_rate']:.1%} overall, "
           f"{res['clean_error_rate']:.1%} on clean images. {res['folds']}-fold grouped CV took "
           f"{res['cv_seconds']:.0f} s.", "",
           "### All methods", "",
           "| method | AUROC [95% CI] | AURC | ECE | acc. kept @10% flagged | errors caught @10% "
           "| @20% |", "|---|---|---|---|---|---|---|"]
    for method, s in res["methods"].items():
        out.append(f"| {LABELS.get(method, method)} | {_ci(s['auroc'])} | {_ci(s['aurc'])} | "
                   f"{_ci(s['ece']) if s['ece'] else 'n/a'} | "
                   f"{_at(s, 0.1, 'accepted_accuracy')} | {_at(s, 0.1, 'errors_caught')} | "
                   f"{_at(s, 0.2, 'errors_caught')} |")
    out += ["", "### Targets", "", *targets(res), "",
            "### By damage (AUROC within the damage)", "",
            "| damage | n | error rate | default recipe's mean risk | featrisk (fitted) | oracle | "
            "default recipe | max-softmax | hybrid stack |", "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(res["by_damage"], key=lambda r: -r["error_rate"]):
        cells = " | ".join("n/a" if v != v else f"{v:.3f}" for v in
                           (r["featrisk"], r["oracle"], r["default_model"], r["max_softmax"],
                            r["featrisk_hybrid_stack"]))
        out.append(f"| {r['damage']} | {r['n']} | {r['error_rate']:.1%} | "
                   f"{r['default_mean_risk']:.3f} | {cells} |")
    out += ["", "### Default recipe (no fitting on this set): the ten (damage, severity) batches it "
            "misjudges most",
            "", "| damage | severity | n | error rate | mean risk | gap |", "|---|---|---|---|---|---|"]
    for r in res["default_batches"][:10]:
        out.append(f"| {r['damage']} | {r['severity']} | {r['n']} | {r['error_rate']:.1%} | "
                   f"{r['mean_risk']:.3f} | {r['gap']:+.3f} |")
    return [*out, ""]
