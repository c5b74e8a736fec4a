"""BENCHMARKS.md sections after the outcome sets: the fast profile's accuracy, speed, ablation."""

from __future__ import annotations

from typing import Any

from featrisk.bench.report_common import LABELS, _ci, provenance, run_commands
from featrisk.bench.report_heldout import _clear_of

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
