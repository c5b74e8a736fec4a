"""Record EfficientNet-Lite0's outcomes on the demo images into ``data/demo_outcomes.csv``.

Run once by a maintainer, with the optional extra ``featrisk[bench]`` installed (torch)::

    python data/make_demo_outcomes.py [--out data/demo_outcomes.csv] [--seed 0]

The demo itself (``featrisk demo``) needs no torch: it rebuilds the same images with
:func:`featrisk.demo_images.demo_images`, saves them as JPEG quality 95 with
``cv2.imwrite``, and joins them with this table by ``name``. So that the classifier sees
the pixels the demo's feature extractor will see, every image is classified after a JPEG
quality 95 round trip through ``cv2.imencode``/``cv2.imdecode`` (OpenCV's encoder, the
same bytes as ``cv2.imwrite``).

The photos have no ImageNet label: ``correct`` is True when the top-1 class on an image
equals the top-1 class on the pristine (clean) crop it came from, so every clean crop is
correct by definition.

Columns: ``name``, ``source`` (photo), ``degradation`` (family or ``"none"``),
``severity`` (0 clean, 1-5), ``pred_class`` and ``pristine_pred_class`` (ImageNet-1k
indices), ``max_prob``, ``margin`` (top-1 minus top-2), ``entropy`` (nats), ``gini``
(``1 - sum p**2``), all rounded to 5 decimals, and ``correct``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from featrisk.bench.classifiers import EfficientNetLite0, softmax_scores
from featrisk.demo_images import demo_images

#: JPEG quality of the demo files (see featrisk.demo.JPEG_QUALITY).
JPEG_QUALITY = 95
#: Decimals kept for the float columns (keeps the committed CSV small).
DECIMALS = 5
COLUMNS = ["name", "source", "degradation", "severity", "pred_class", "pristine_pred_class",
           "max_prob", "margin", "entropy", "gini", "correct"]  # fmt: skip


def jpeg_round_trip(rgb: np.ndarray, *, quality: int = JPEG_QUALITY) -> np.ndarray:
    """Encode RGB as JPEG with OpenCV and decode it again (what a saved file holds)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])  # fmt: skip
    if not ok:
        raise RuntimeError("cv2.imencode failed to encode a demo image as JPEG")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def outcomes_table(meta: pd.DataFrame, probs: np.ndarray) -> pd.DataFrame:
    """Build the outcome table from the demo records (without images) and probabilities."""
    table = meta[["name", "source", "degradation", "severity"]].reset_index(drop=True)
    table["pred_class"] = probs.argmax(axis=1)
    crop = table["name"].str.rsplit("__", n=1).str[0]
    clean = table["degradation"] == "none"
    pristine = pd.Series(table.loc[clean, "pred_class"].to_numpy(), index=crop[clean])
    table["pristine_pred_class"] = crop.map(pristine).to_numpy()
    table = pd.concat([table, softmax_scores(probs).round(DECIMALS)], axis=1)
    table["correct"] = table["pred_class"] == table["pristine_pred_class"]
    return table[COLUMNS]


def main(argv: list[str] | None = None) -> int:
    """Classify the demo images and write the outcome CSV; print a short summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("demo_outcomes.csv"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    items = demo_images(seed=args.seed)
    images = [jpeg_round_trip(item.pop("image")) for item in items]
    probs = EfficientNetLite0(batch_size=args.batch_size).predict_proba(images)
    table = outcomes_table(pd.DataFrame(items), probs)
    table.to_csv(args.out, index=False)
    print(
        f"wrote {args.out} ({len(table)} rows, {args.out.stat().st_size / 1024:.0f} KiB) "
        f"in {time.perf_counter() - start:.0f} s; share correct {table['correct'].mean():.3f}"
    )
    print(table.groupby("severity")["correct"].agg(["mean", "size"]).round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
