"""The embedded demo: real classifier outcomes on photos that ship inside scikit-image.

``featrisk demo`` needs no torch and no network. It rebuilds a small validation set from
crops of the photos inside scikit-image's wheel, degraded with :mod:`featrisk.degrade`
(see :func:`featrisk.demo_images.demo_images`), writes them as JPEG (quality 95), and joins
them with the outcomes of a real classifier, EfficientNet-Lite0, that
``data/make_demo_outcomes.py`` recorded in ``data/demo_outcomes.csv``. Those photos have no
ImageNet label, so an image counts as misclassified when the classifier's top-1 class on it
differs from its top-1 class on the pristine crop.

The demo fits featrisk on 70% of the pristine crops (with all their variants), evaluates on
the held-out 30% against the classifier's own max-softmax score, and writes predictions,
importance and a summary (and the HTML report when matplotlib is installed).
"""

from __future__ import annotations

import json
import os
import time
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk.api import fit, predict
from featrisk.extract import extract

__all__ = ["demo_dataset", "load_demo_outcomes", "run_demo"]

#: Share of pristine crops (with all their variants) held out for evaluation.
TEST_SHARE = 0.3
#: JPEG quality of the demo image files (the classifier saw the same round trip).
JPEG_QUALITY = 95

LABEL_NOTE = (
    "These photos have no ImageNet label: an image counts as misclassified when "
    "EfficientNet-Lite0's top-1 class on it differs from its top-1 on the pristine crop."
)


def load_demo_outcomes() -> pd.DataFrame:
    """The recorded EfficientNet-Lite0 outcomes for the demo images (``data/demo_outcomes.csv``)."""
    ref = resources.files("featrisk") / "_data" / "demo_outcomes.csv"
    with ref.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def demo_dataset(folder: str | os.PathLike[str], *, n_jobs: int = -1,
                 progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the demo images to ``folder`` and extract their features.

    Returns
    -------
    (features, outcomes) : tuple of DataFrame
        Row-aligned: the :func:`featrisk.extract` table, and the recorded outcomes with a
        ``path`` column, ``crop`` (the pristine crop, for grouping) and ``correct``.
    """
    from featrisk.demo_images import demo_images

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outcomes = load_demo_outcomes().set_index("name")
    rows, paths = [], []
    for item in demo_images():
        path = folder / f"{item['name']}.jpg"
        if not path.exists():
            bgr = cv2.cvtColor(item["image"], cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        rows.append(item["name"])
        paths.append(str(path))
    missing = [n for n in rows if n not in outcomes.index]
    if missing:
        raise RuntimeError(f"demo_outcomes.csv lacks {len(missing)} demo images, e.g. {missing[0]}")
    out = outcomes.loc[rows].reset_index()
    out.insert(0, "path", paths)
    out["crop"] = out["name"].str.rsplit("__", n=1).str[0]
    features = extract(paths, n_jobs=n_jobs, progress=progress)
    return features, out


def _split(crops: pd.Series, seed: int = 0) -> np.ndarray:
    uniq = np.sort(crops.unique())
    rng = np.random.default_rng(seed)
    test = set(rng.choice(uniq, size=max(1, round(TEST_SHARE * len(uniq))), replace=False))
    return crops.isin(test).to_numpy()


def _fmt(m: dict[str, float]) -> str:
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def run_demo(out: str | os.PathLike[str] = "featrisk-demo", *, overwrite: bool = False,
             quiet: bool = False) -> dict[str, object]:
    """Fit and evaluate featrisk on the embedded demo set; print and write a summary.

    Returns
    -------
    dict
        The summary written to ``<out>/summary.json``.
    """
    start = time.perf_counter()
    out = Path(out)
    summary_path = out / "summary.json"
    if summary_path.exists() and not overwrite:
        raise FileExistsError(f"{summary_path} exists; pass overwrite=True (--overwrite)")
    say = (lambda *a: None) if quiet else print
    say("featrisk demo: building the validation set (crops of scikit-image's photos) ...")
    features, outcomes = demo_dataset(out / "images", progress=not quiet)
    test = _split(outcomes["crop"])
    train = ~test
    model = fit(features[train], outcomes.loc[train, "correct"].to_numpy(),
                groups=outcomes.loc[train, "crop"].to_numpy())
    pred = predict(features[test], model)
    error = (~outcomes.loc[test, "correct"].to_numpy(bool)).astype(int)
    groups = outcomes.loc[test, "crop"].to_numpy()
    ours = metrics.summary(error, pred["risk"].to_numpy(), groups=groups)
    softmax = metrics.summary(error, 1.0 - outcomes.loc[test, "max_prob"].to_numpy(), groups=groups)
    importance = model.importance()
    out.mkdir(parents=True, exist_ok=True)
    pred.assign(correct=outcomes.loc[test, "correct"].to_numpy()).to_csv(
        out / "predictions.csv", index=False)
    importance.to_csv(out / "importance.csv")
    model.save(out / "model.json")
    summary = {
        "images": int(len(features)), "train_images": int(train.sum()),
        "test_images": int(test.sum()), "test_error_rate": float(error.mean()),
        "featrisk": ours, "max_softmax": softmax, "label_note": LABEL_NOTE,
        "seconds": round(time.perf_counter() - start, 1),
    }
    summary_path.write_text(json.dumps(summary, indent=2, default=float))
    say(LABEL_NOTE)
    say(f"images: {len(features)} ({int(train.sum())} to fit, {int(test.sum())} held out, "
        f"held-out error rate {error.mean():.1%})")
    say(f"held-out AUROC  featrisk (image only): {_fmt(ours['auroc'])}   "
        f"max-softmax (needs the classifier): {_fmt(softmax['auroc'])}")
    say(f"held-out AUPRC  featrisk: {_fmt(ours['auprc'])}   max-softmax: {_fmt(softmax['auprc'])}")
    say(f"calibration error (ECE) featrisk: {ours['ece']['value']:.3f}")
    for row in ours["budget_table"]:
        say(f"  flag {row['flag_rate']:.0%}: accepted accuracy {row['accepted_accuracy']:.1%}, "
            f"errors caught {row['errors_caught']:.1%}")
    say("top features (mean |TreeSHAP|, log-odds):")
    for name, value in importance["mean_abs_contribution"].head(8).items():
        say(f"  {name:<36} {value:.3f}")
    written = "predictions.csv, importance.csv, model.json, summary.json"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        say('(pip install "featrisk[report]" for the HTML report)')
    else:
        from featrisk.report import report

        extra = pd.DataFrame({"path": outcomes.loc[test, "path"].to_numpy(),
                              "softmax_max_prob": outcomes.loc[test, "max_prob"].to_numpy()})
        report(model, features[test].reset_index(drop=True),
               outcomes.loc[test, "correct"].to_numpy(bool), out=out / "report.html",
               extra=extra, groups=groups, title="featrisk demo: EfficientNet-Lite0 on "
               "degraded crops of scikit-image's photos (held-out 30%)")
        written += ", report.html, report.json"
    summary["seconds"] = round(time.perf_counter() - start, 1)
    summary_path.write_text(json.dumps(summary, indent=2, default=float))
    say(f"wrote {out}/ ({written}) in {summary['seconds']} s")
    return summary
