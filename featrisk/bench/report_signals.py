"""BENCHMARKS.md sections of ``featrisk bench signals``: every failure predictor per classifier."""

from __future__ import annotations

from typing import Any

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
