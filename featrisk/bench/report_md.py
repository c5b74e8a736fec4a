"""Render benchmark results (JSON written by ``featrisk bench run``) as BENCHMARKS.md.

Nothing in the file is typed by hand: every number comes from the results dictionaries.
"""

from __future__ import annotations

from typing import Any

from featrisk.bench.report_unseen import section as unseen_section

LABELS = {
    "featrisk": "featrisk, image only (headline; degradation-aware, the default)",
    "featrisk_denoised": ("featrisk, image only, targets blended with a teacher's risk "
                          "(denoise=0.5)"),
    "featrisk_direct": "featrisk, image only, features alone (degradation=None)",
    "featrisk_estimator_only": "featrisk, image only, degradation estimator outputs alone (features=[])",
    "featrisk_true_degradation": ("featrisk, image only, told the true degradation and severity "
                                  "(a ceiling for the estimator, not a usable method)"),
    "featrisk_hybrid_stack": "featrisk hybrid: logistic stack of image risk + max-softmax",
    "featrisk_hybrid_lgbm": "featrisk hybrid: LightGBM on features + softmax scores",
    "max_softmax": "classifier max-softmax (1 - p_max)",
    "margin": "classifier top-1/top-2 margin",
    "entropy": "classifier softmax entropy",
    "properties": "properties model (brightness, contrast, aspect, area, mean RGB)",
    "cleanvision_dark": "CleanVision-style rule: dark",
    "cleanvision_light": "CleanVision-style rule: light",
    "cleanvision_blurry": "CleanVision-style rule: blurry",
    "cleanvision_low_information": "CleanVision-style rule: low information",
    "cleanvision_any": "CleanVision-style rules: max of the four",
    "oracle": "degradation oracle (knows each image's degradation and severity)",
    "atypicality": "atypicality alone (classifier-free distance from typical, correct images)",
    "featrisk_plus_atypicality": "featrisk + atypicality (mean of the two percentiles)",
}


def _ci(m: dict[str, float] | None, digits: int = 3) -> str:
    if m is None:
        return "n/a"
    return f"{m['value']:.{digits}f} [{m['low']:.{digits}f}, {m['high']:.{digits}f}]"


def _budget(s: dict[str, Any], rate: float, key: str) -> str:
    for row in s["budget_table"]:
        if abs(row["flag_rate"] - rate) < 1e-9:
            return f"{row[key]:.1%}"
    return "n/a"


def methods_table(res: dict[str, Any]) -> list[str]:
    """The headline table: every method with intervals."""
    lines = [
        "| method | AUROC [95% CI] | AUPRC [95% CI] | AURC (lower is better) | ECE | "
        "acc. kept @5% | @10% | @20% flagged | errors caught @10% | @20% |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in res["methods"].items():
        lines.append(
            f"| {LABELS.get(name, name)} | {_ci(s['auroc'])} | {_ci(s['auprc'])} | "
            f"{_ci(s['aurc'])} | {_ci(s['ece']) if s['ece'] else 'n/a'} | "
            f"{_budget(s, 0.05, 'accepted_accuracy')} | {_budget(s, 0.1, 'accepted_accuracy')} | "
            f"{_budget(s, 0.2, 'accepted_accuracy')} | {_budget(s, 0.1, 'errors_caught')} | "
            f"{_budget(s, 0.2, 'errors_caught')} |"
        )
    return lines


def breakdown_table(rows: list[dict[str, Any]], by: str) -> list[str]:
    """AUROC per method within each group (point estimates)."""
    if not rows:
        return []
    methods = [k for k in rows[0] if k not in (by, "n", "error_rate", "mean_risk")]
    head = f"| {by} | n | error rate | mean featrisk risk | " + " | ".join(methods) + " |"
    lines = [head, "|" + "---|" * (4 + len(methods))]
    for r in rows:
        vals = " | ".join("n/a" if r[m] != r[m] else f"{r[m]:.3f}" for m in methods)
        lines.append(f"| {r[by]} | {r['n']} | {r['error_rate']:.1%} | {r['mean_risk']:.3f} | {vals} |")
    return lines


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


def _with_ci(row: dict) -> str:
    """A held-out row's featrisk AUROC, with its bootstrap interval when the row has one."""
    ci = row.get("featrisk_ci")
    return f"{row['featrisk']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _clear_of(rows: list[dict], bar: float = 0.65, key: str = "featrisk") -> str:
    """How many held-out families' AUROC under ``key`` sits at ``bar`` or above, and how many
    of their intervals (``<key>_ci``) lie wholly above or below it (left out without them)."""
    at = sum(r[key] >= bar for r in rows)
    cis = [r.get(f"{key}_ci") for r in rows]
    if not all(cis):
        return f" ({at} of {len(rows)} families at {bar} or more)"
    above = sum(ci[0] >= bar for ci in cis)
    below = sum(ci[1] < bar for ci in cis)
    return (f" ({at} of {len(rows)} families at {bar} or more; the interval lies wholly above "
            f"{bar} for {above} and wholly below it for {below})")


def _ceiling_note(rows: list[dict], bar: float = 0.65) -> list[str]:
    """What the held-out oracle (a ceiling that knows the family) says about the 0.65 bar."""
    if not all("oracle" in r for r in rows):
        return []
    low = [r for r in rows if r["oracle"] < bar]
    reach = [r for r in rows if r["oracle"] >= bar]
    met = sum(r["featrisk"] >= bar for r in reach)
    gaps = sorted((r for r in reach if r["featrisk"] < r["oracle"]),
                  key=lambda r: r["featrisk"] - r["oracle"])[:3]
    text = ("The oracle column is a ceiling, not a competitor: it knows each image's degradation "
            "and severity and reads the error rates of the other half's images of that very "
            "family. ")
    if low:
        text += (f"It stays below {bar} on {len(low)} families ("
                 + ", ".join(f"{r['family']} {r['oracle']:.3f}" for r in low)
                 + "): there even exact knowledge of the damage ranks the set's failures "
                 f"poorly, and reaching {bar} takes more than recognising the damage. ")
    text += f"On the {len(reach)} families where the oracle reaches {bar}, featrisk reaches it on {met}"
    text += ("; it trails the oracle most on " + ", ".join(
        f"{r['family']} ({r['featrisk']:.3f} against {r['oracle']:.3f})" for r in gaps) + "."
        if gaps else " and is at or above the oracle on every one.")
    return [text, ""]


def run_commands(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> list[str]:
    """The build commands, then every distinct ``bench run`` command behind ``results``.

    A run over some of the outcome sets leaves the others' results from an earlier run; each
    result records its own command (``res["run"]``), so the list names both runs.
    """
    builds = [c for c in meta["commands"] if not c.startswith("featrisk bench run")]
    runs = [res["run"]["command"] for res in results.values() if res.get("run")]
    runs += [c for c in meta["commands"] if c.startswith("featrisk bench run")]
    return builds + list(dict.fromkeys(runs))


def provenance(res: dict[str, Any]) -> list[str]:
    """One line naming the run that produced an outcome set's results (empty if unrecorded)."""
    run = res.get("run")
    if not run:
        return []
    took = f" in {run['seconds']:.0f} s" if run.get("seconds") is not None else ""
    return [f"Produced by `{run['command']}` at {run['date']} (UTC){took}.", ""]


def render(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    """BENCHMARKS.md text for all evaluated outcome sets."""
    out = [
        "# featrisk benchmarks",
        "",
        "Generated by `featrisk bench run`; every number below comes from such a run. "
        "Do not edit by hand.",
        "",
        "## How this was produced",
        "",
        "```bash",
        *run_commands(results, meta),
        "```",
        "",
        f"Machine: {meta['machine']}. Last run at {meta['date']} (UTC), wall time "
        f"{meta['wall_seconds']:.0f} s; each outcome set's section names the run that "
        "produced it.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
        "Protocol: grouped K-fold over source images (a photo and all its degraded variants are "
        "always on the same side); each method scores every image out of fold. Intervals are "
        "95% percentile bootstraps over source images. AURC is the area under the "
        "risk-coverage curve (lower is better); 'acc. kept' is the classifier's accuracy on "
        "the images not flagged; ECE is reported for probabilistic scores only.",
        "",
    ]
    unseen = [n for n, r in results.items() if r.get("kind") == "unseen"]
    for name in unseen:
        out += unseen_section(name, results[name], provenance(results[name]))
    for name, res in results.items():
        if name in unseen:
            continue
        out += [f"## {name}", "", res.get("description", ""), ""]
        out += provenance(res)
        out += [
            f"{res['n_images']} images from {res['n_sources']} source images; classifier error "
            f"rate {res['error_rate']:.1%} overall, {res['clean_error_rate']:.1%} on clean images. "
            f"{res['folds']}-fold grouped CV took {res['cv_seconds']:.0f} s.",
            "",
        ]
        if res.get("gate"):
            out += [f"**{res['gate']}**", ""]
        out += ["### All methods", "", *methods_table(res), ""]
        out += ["### Targets", "", *targets(res), ""]
        out += ["### By degradation family (AUROC within the family)", "",
                *breakdown_table(res["by_family"], "family"), ""]
        out += ["### By severity (0 = clean: natural failures)", "",
                *breakdown_table(res["by_severity"], "severity"), ""]
        out += ["### Where featrisk is weak", "", *weaknesses(res), ""]
        if res.get("heldout_families"):
            rows = res["heldout_families"]
            mean = sum(r["featrisk"] for r in rows) / len(rows)
            blend = [r.get("featrisk_plus_atypicality") for r in rows]
            has_blend = all(b is not None for b in blend)
            out += ["### Degradations never seen in training (leave one family out)", "",
                    "Estimator and risk model fitted without any image of the family; scored on "
                    "held-out sources' images of that family plus their clean images (the "
                    "sources split in two halves, each scored by models fitted on the other, "
                    "so every source is scored once). The featrisk column gives the 95% "
                    "bootstrap interval over sources where it was computed. "
                    f"Mean AUROC over families: featrisk {mean:.3f}{_clear_of(rows)}"
                    + (f"; featrisk + atypicality {sum(blend) / len(blend):.3f}"
                       f"{_clear_of(rows, key='featrisk_plus_atypicality')}"
                       if has_blend else "") + ".", ""]
            if res.get("heldout_run"):
                run = res["heldout_run"]
                out += [f"Not re-run with the rest of this section: these rows are from "
                        f"`{run.get('command', '?')}` of {run.get('date', '?')}, when the set "
                        f"had {run['n_families']} families and the code was that run's.", ""]
            if has_blend:
                out += ["Atypicality needs no classifier output and no degradation label: it is "
                        "the distance of an image's statistics from those of the training images "
                        "the classifier got right and the degradation estimator takes for clean "
                        "(`featrisk.predict` returns it). The risk model "
                        "learns which damage hurts from the damage it saw; atypicality can "
                        "notice damage nobody listed, and costs AUROC on known damage (methods "
                        "table above). Whether it pays depends on the data: compare the "
                        "columns.", "",
                        *_ceiling_note(rows)]
                ceiling = all("oracle" in r for r in rows)
                out += ["| held-out family | n | error rate | featrisk | atypicality | featrisk + "
                        "atypicality | max-softmax |" + (" oracle (knows the family) |" if ceiling else ""),
                        "|---|---|---|---|---|---|---|" + ("---|" if ceiling else "")]
                out += [f"| {r['family']} | {r['n']} | {r['error_rate']:.1%} | {_with_ci(r)} "
                        f"| {r['atypicality']:.3f} | {r['featrisk_plus_atypicality']:.3f} | "
                        f"{r['max_softmax']:.3f} |" + (f" {r['oracle']:.3f} |" if ceiling else "")
                        for r in rows]
            else:
                out += ["| held-out family | n | error rate | featrisk AUROC | max-softmax AUROC |",
                        "|---|---|---|---|---|"]
                out += [f"| {r['family']} | {r['n']} | {r['error_rate']:.1%} | {_with_ci(r)} | "
                        f"{r['max_softmax']:.3f} |" for r in rows]
            out.append("")
        out += ["### What carries the signal (model fitted on all images)", "",
                "| feature | mean abs TreeSHAP (log-odds) | gain share |", "|---|---|---|"]
        out += [f"| {r['feature']} | {r['mean_abs_contribution']:.3f} | {r['gain']:.3f} |"
                for r in res["importance"][:15]]
        out.append("")
        if res.get("speed") and not meta.get("speed"):
            out += ["### Throughput (measured in this run)", ""]
            out += [f"- {k}: {v}" for k, v in res["speed"].items()]
            out.append("")
    if meta.get("fast"):
        out += fast_section(meta["fast"], results)
    if meta.get("speed"):
        out += speed_section(meta["speed"])
    signals = meta.get("signals") or {}
    for name in sorted(signals, key=lambda k: (SIGNALS_ORDER.index(k) if k in SIGNALS_ORDER
                                               else len(SIGNALS_ORDER), k)):
        out += signals_section(signals[name])
    if meta.get("ablation"):
        out += ablation_section(meta["ablation"])
    return "\n".join(out) + "\n"


#: Order of the ``bench signals`` sections: the ImageNet photos, then CIFAR-10.
SIGNALS_ORDER = ("imagenet", "independent", "cifar")


def _signals_rows(rows: list[dict[str, Any]], subset: str) -> list[str]:
    out = ["| approach | AUROC | AURC | errors caught at 10% flagged |", "|---|---|---|---|"]
    chosen = sorted((r for r in rows if r["subset"] == subset), key=lambda r: -r["auroc"])
    for r in chosen:
        out.append(f"| {r['approach']} | {r['auroc']:.3f} [{r['auroc_low']:.3f}, "
                   f"{r['auroc_high']:.3f}] | {r['aurc']:.3f} | {r['caught']:.1%} |")
    return out


def _mc_note(classifiers: list[dict[str, Any]]) -> str:
    """How the Monte Carlo dropout passes of these classifiers were made."""
    if all(c.get("mc_dropout", "head") == "head" for c in classifiers):
        return ("Monte Carlo dropout: passes of the head's dropout over the penultimate "
                "embedding (the models' only dropout).")
    passes = classifiers[0].get("mc_passes", "")
    return (f"Monte Carlo dropout: {passes} passes of the whole network with every dropout "
            "layer on and batch norm in eval mode (`featrisk.torch.run`).")


def _classifier_note(c: dict[str, Any]) -> list[str]:
    """Architecture, dropout and training of a classifier trained for the benchmark."""
    if "architecture" not in c:
        return []
    conv = (f"`Dropout2d({c['conv_dropout']:g})` after each pooling stage and "
            if c["conv_dropout"] else "")
    return [f"Network: {c['architecture']}; {conv}`Dropout({c['dropout']:g})` before the "
            f"linear layer. Trained "
            f"{c['epochs']} epochs in {c['train_seconds']:.0f} s on one CPU thread; "
            f"{c['test_accuracy']:.1%} accuracy on the 10,000 clean CIFAR-10 test images.", ""]


def signals_section(sig: dict[str, Any]) -> list[str]:
    """Every failure predictor per classifier, from ``featrisk bench signals``."""
    classifiers = list(sig["classifiers"].values())
    out = [f"## Every failure predictor on the {sig.get('dataset', 'imagenet')} set", "",
           f"Command: `{sig.get('command', 'featrisk bench signals')}` ({sig.get('date', '')}, "
           f"{sig.get('machine', '')}). {sig['n_images']} images ("
           f"{sig['n_clean']} clean photos), grouped {sig['folds']}-fold by source photo "
           "(`featrisk.compare`); featrisk's degradation inputs come from estimators that never "
           "saw the photo (nor, on the independent set, its kind of damage). "
           f"{_mc_note(classifiers)} Clean photos: the natural failures alone.", ""]
    for c in classifiers:
        out += [f"### {c['model']} ({c['input_px']} px input): accuracy {c['accuracy']:.1%} on "
                f"the set, {c['clean_accuracy']:.1%} on the clean photos", "",
                *_classifier_note(c),
                f"{c['recommendation']} Stack inputs kept (folds of {sig['folds']}): "
                + ", ".join(f"{k} {v}" for k, v in c["stack_inputs"].items()) + ".", "",
                "All images:", ""]
        out += _signals_rows(c["table"], "all")
        out += ["", "Clean photos only:", ""]
        out += _signals_rows(c["table"], "clean photos")
        d = c.get("clean_stack_minus_best")
        if d:
            out += ["", f"On the clean photos the stacked hybrid minus {d['best_single']}, the "
                        f"best single approach there: {d['value']:+.3f} [{d['low']:+.3f}, "
                        f"{d['high']:+.3f}] AUROC."]
        out.append("")
    t = sig.get("transfer")
    if t:
        d = t["transferred_minus_own"]
        out += ["### Transfer between classifiers", "",
                f"Image-only featrisk fitted on {t['from']}'s outcomes ranks {t['to']}'s failures "
                f"at AUROC {t['auroc_transferred']:.3f}, against {t['auroc_own']:.3f} when "
                f"fitted on {t['to']}'s own: {d['value']:+.3f} [{d['low']:+.3f}, "
                f"{d['high']:+.3f}]. The two classifiers agree on right/wrong for "
                f"{t['errors_agree']:.1%} of the images.", ""]
    return out


#: Methods compared between the profiles, in this order.
FAST_METHODS = ("featrisk", "featrisk_denoised", "featrisk_direct", "featrisk_estimator_only",
                "featrisk_hybrid_stack", "oracle", "max_softmax")


def fast_section(fast: dict[str, Any], results: dict[str, dict[str, Any]]) -> list[str]:
    """The fast profile's AUROC beside the default profile's (from ``bench run --profile fast``)."""
    meta = fast["meta"]
    out = ["## Fast profile: accuracy", "",
           "`featrisk.extract(paths, profile=\"fast\")` shrinks every image to fit 40 x 400 px "
           "(a 500 x 375 photo becomes 53 x 40), decoding JPEGs at 1/2, 1/4 or 1/8 scale, and "
           "computes every family on that one small image; its estimator and default model are "
           "fitted on fast features. Same outcome sets, folds and protocol as above; speed "
           "ratios of both profiles are in the Speed section.", "",
           "```bash", *[c for c in run_commands(fast["results"], meta)
                        if c.startswith("featrisk bench run")], "```", "",
           f"Last run at {meta['date']} (UTC), wall time {meta['wall_seconds']:.0f} s.", ""]
    for name, res in fast["results"].items():
        base = results.get(name, {}).get("methods", {})
        out += [f"### {name}", "", *provenance(res),
                "| method | fast profile AUROC [95% CI] | default profile AUROC [95% CI] |",
                "|---|---|---|"]
        for m in FAST_METHODS:
            if m in res["methods"]:
                other = _ci(base[m]["auroc"]) if m in base else "n/a"
                out.append(f"| {LABELS.get(m, m)} | {_ci(res['methods'][m]['auroc'])} | {other} |")
        rows = res.get("heldout_families") or []
        if rows:
            mean = sum(r["featrisk"] for r in rows) / len(rows)
            base_rows = results.get(name, {}).get("heldout_families") or []
            base_mean = (f"; default profile {sum(r['featrisk'] for r in base_rows) / len(base_rows):.3f}"
                         if base_rows else "")
            out += ["", f"Held-out degradation families, mean AUROC: fast profile {mean:.3f}"
                    f"{_clear_of(rows)}{base_mean}."]
        out.append("")
    return out


def ablation_section(ablation: dict[str, Any]) -> list[str]:
    """AUROC lost per millisecond saved, from ``featrisk bench ablation`` (its own JSON)."""
    out = ["## What each feature family and the working size buy", "",
           f"Command: `{ablation.get('command', 'featrisk bench ablation')}`. Direct risk model "
           "(features only, no degradation estimator), same grouped folds as above. Times are "
           "one thread, per image, fastest of 3 passes, on "
           f"{ablation.get('timing_folder') or 'the outcome set images'}; a family's time is "
           "its own work once the shared views exist (dropping it saves at least that).", ""]
    for name, res in ablation.get("datasets", {}).items():
        out += [f"### {name}: families", "",
                f"All families: AUROC {res['auroc_all']:.4f}, {res['ms_all']:.2f} ms/image of "
                "feature work (decode not included).", "",
                "| family | columns | own ms/image | AUROC without it | AUROC lost | lost per ms |",
                "|---|---|---|---|---|---|"]
        for r in sorted(res["families"], key=lambda r: -r["auroc_lost"]):
            per = "" if r["auroc_lost_per_ms"] is None else f"{r['auroc_lost_per_ms']:+.4f}"
            out.append(f"| {r['family']} | {r['columns']} | {r['own_ms']:.3f} | "
                       f"{r['auroc_without']:.4f} | {r['auroc_lost']:+.4f} | {per} |")
        views = res.get("views_ms", {})
        if views:
            out += ["", "Shared views, ms/image: " + ", ".join(
                f"{k} {v:.3f}" for k, v in sorted(views.items(), key=lambda kv: -kv[1])) + "."]
        out.append("")
        if res.get("sizes"):
            out += [f"### {name}: working-image size", "",
                    "Whole extraction rerun with the working image's short side set to each size "
                    "(long side twice it); only the shipped size is used by featrisk.", "",
                    "| short side px | feature ms/image | AUROC (direct) | shipped |",
                    "|---|---|---|---|"]
            out += [f"| {r['short_side']} | {r['features_ms']:.2f} | {r['auroc_direct']:.4f} | "
                    f"{'yes' if r['shipped'] else ''} |" for r in res["sizes"]]
            out.append("")
    return out


def speed_section(speed: dict[str, Any]) -> list[str]:
    """Speed ratios from ``featrisk bench speed`` (its own JSON, with its command)."""
    out = ["## Speed", "",
           f"Command: `{speed.get('command', 'featrisk bench speed (command not recorded)')}`; "
           f"{speed.get('n_images', {})} images, one process ({speed.get('cpu_count')} cores "
           "for `scaling_efficiency`: images/s with n_jobs=-1 over one process's times the "
           "cores).", "",
           *([f"Machine: {speed['machine']} (speed figures are comparable only within one run "
              "on one machine; the accuracy figures above do not depend on it).", ""]
             if speed.get("machine") else []),
           "| measure | value | target | met |", "|---|---|---|---|"]
    for key, value in speed.get("ratios", {}).items():
        targets = speed.get("meets_target", {})
        met = "" if key not in targets else ("yes" if targets[key] else "**no**")
        out.append(f"| {key} | {value:.3f} | {speed.get('targets', {}).get(key, '')} | {met} |")
    ratios = speed.get("ratios", {})
    if {"cifar_images_per_s_per_core", "fast_cifar_images_per_s_per_core"} <= set(ratios):
        out += ["", "The 32 px CIFAR images are under the fast profile's 40 px, so both profiles "
                "run the same code on them: the gap between the two CIFAR figures "
                f"({ratios['cifar_images_per_s_per_core']:.0f} and "
                f"{ratios['fast_cifar_images_per_s_per_core']:.0f} images/s) is this machine's "
                "run-to-run noise, not a difference between the profiles."]
    if speed.get("peak_rss_mb"):
        sizes = " and ".join(f"{int(k):,}" for k in speed["peak_rss_mb"])
        out += ["", f"Peak resident memory of `featrisk extract --list` streaming {sizes} "
                "files (the CIFAR files repeated; one worker; the child's own `VmHWM`): "
                + ", ".join(f"{v} MB in {speed.get('stream_seconds', {}).get(k, '?')} s"
                            for k, v in speed["peak_rss_mb"].items())
                + " (`memory_growth` above is their ratio)."]
    out += ["", "Images per second: " + ", ".join(
        f"{k} {v}" for k, v in speed.get("images_per_s", {}).items()) + "; 1-minute load during "
        "each measure: " + ", ".join(f"{k} {v}" for k, v in speed.get("load_1min", {}).items()) + "."]
    for key, which in (("profile", "default"), ("profile_fast", "fast")):
        if speed.get(key):
            out += ["", f"Profile of featrisk extraction, {which} profile (cProfile, top "
                    "functions by own time):", "",
                    "```", "\n".join(str(speed[key]).rstrip().splitlines()[:14]), "```"]
    return out + [""]
