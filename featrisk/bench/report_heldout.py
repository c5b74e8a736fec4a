"""BENCHMARKS.md's leave-one-degradation-family-out tables and the sentences around them."""

from __future__ import annotations

from typing import Any


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


def heldout_section(res: dict[str, Any]) -> list[str]:
    """The leave-one-family-out table of an outcome set (empty when it has none)."""
    if not res.get("heldout_families"):
        return []
    rows = res["heldout_families"]
    mean = sum(r["featrisk"] for r in rows) / len(rows)
    blend = [r.get("featrisk_plus_atypicality") for r in rows]
    has_blend = all(b is not None for b in blend)
    out = ["### Degradations never seen in training (leave one family out)", "",
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
    return out
