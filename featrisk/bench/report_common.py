"""Pieces every BENCHMARKS.md section uses: method labels, intervals, the runs behind the numbers."""

from __future__ import annotations

from typing import Any

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
