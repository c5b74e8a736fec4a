"""``featrisk bench signals`` and ``ablation``: studies that write their own JSON for the render."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from featrisk.bench.feature_cache import composed_rows, features_cached
from featrisk.bench.speed import machine_description
from featrisk.schema import SCHEMA_VERSION


def cmd_ablation(args: argparse.Namespace) -> int:
    """AUROC lost per millisecond saved, per family and per working size; JSON to --out."""
    from featrisk.bench.ablation import family_ablation, family_costs_ms, size_study
    from featrisk.bench.speed import list_images

    timing = list_images(args.timing_folder, args.timing_images) if args.timing_folder else None
    result: dict[str, Any] = {"timing_folder": args.timing_folder, "datasets": {}}
    costs = None  # one timing of the families serves every outcome set when the folder is given
    for name in args.datasets:
        cache = Path(args.cache_root) / name
        outcomes = pd.read_csv(cache / "outcomes.csv")
        features, _ = features_cached(outcomes, cache, n_jobs=args.n_jobs)
        print(f"{name}: family ablation")
        if timing is not None and costs is None:
            costs = family_costs_ms(timing)
        entry = family_ablation(features, outcomes, folds=args.folds, seed=args.seed,
                                timing_images=args.timing_images, timing_paths=timing,
                                costs=costs)
        if args.sizes and name == "imagenet":
            print(f"{name}: working sizes {args.sizes}")
            entry["sizes"] = size_study(outcomes, args.sizes, folds=args.folds, seed=args.seed,
                                        timing_images=args.timing_images, timing_paths=timing)
        result["datasets"][name] = entry
    result["command"] = " ".join(["featrisk bench ablation", *map(shlex.quote, sys.argv[3:])])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"featrisk bench ablation -> {args.out}")
    return 0


def cmd_signals(args: argparse.Namespace) -> int:
    """Every failure predictor on one outcome set, per classifier; JSON to --out."""
    from featrisk.bench.signals import DATASET_MODELS, classifier_signals, evaluate_signals

    models = args.models or list(DATASET_MODELS[args.dataset])
    wrong = [m for m in models if m not in DATASET_MODELS[args.dataset]]
    if wrong:
        print(f"featrisk bench signals: --models {' '.join(wrong)} cannot classify the "
              f"{args.dataset} set's images; use {' '.join(DATASET_MODELS[args.dataset])}",
              file=sys.stderr)
        return 2
    root = Path(args.cache_root)
    cache = root / args.dataset
    outcomes = pd.read_csv(cache / "outcomes.csv")
    features, _ = features_cached(outcomes, cache, n_jobs=args.n_jobs)
    ok = features["error"].isna().to_numpy()
    features, outcomes = features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)
    features.attrs.update(featrisk_schema=SCHEMA_VERSION, featrisk_profile="default")
    estimator = None
    if args.dataset == "independent":  # its damage stays unseen: estimators of the other photos
        from featrisk.bench.signals import reference_estimator_outputs

        ref_outcomes = pd.read_csv(root / "imagenet" / "outcomes.csv")
        ref_features, _ = features_cached(ref_outcomes, root / "imagenet", n_jobs=args.n_jobs)
        estimator = reference_estimator_outputs(
            features, outcomes, (ref_features, ref_outcomes),
            composed=composed_rows(root, n_jobs=args.n_jobs), folds=args.folds, seed=args.seed)
    paths = outcomes["path"].astype(str).tolist()
    signals = {name: classifier_signals(paths, name, cache) for name in models}
    result = evaluate_signals(features, outcomes, signals, folds=args.folds, seed=args.seed,
                              n_boot=args.n_boot, estimator=estimator)
    result["dataset"] = args.dataset
    result["command"] = " ".join(["featrisk bench signals", *map(shlex.quote, sys.argv[3:])])
    result["machine"] = machine_description()
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    out = Path(args.out or f"benchmarks/signals_{args.dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"featrisk bench signals -> {out}")
    return 0


def add_study_parsers(bsub: argparse._SubParsersAction) -> None:
    """Attach ``signals`` and ``ablation`` to the ``bench`` command group."""
    g = bsub.add_parser("signals", help="every failure predictor (softmax, MC dropout, "
                                        "embeddings, confusion, featrisk, the stack) on an "
                                        "outcome set for EfficientNet-Lite0 and -Lite2, or "
                                        "on CIFAR-10 for the CNN trained with dropout")
    g.add_argument("--cache-root", required=True, help="folder holding <dataset>/outcomes.csv")
    g.add_argument("--dataset", default="imagenet", choices=["imagenet", "independent", "cifar"])
    g.add_argument("--models", nargs="+", choices=["lite0", "lite2", "cnn-dropout"],
                   help="default: lite0 lite2 (imagenet, independent), cnn-dropout (cifar)")
    g.add_argument("--folds", type=int, default=5)
    g.add_argument("--n-boot", type=int, default=1000)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--n-jobs", type=int, default=2)
    g.add_argument("--out", help="JSON (default benchmarks/signals_<dataset>.json)")
    g.set_defaults(func=cmd_signals)
    a = bsub.add_parser("ablation", help="AUROC lost per millisecond saved, per feature "
                                         "family and per working-image size")
    a.add_argument("--cache-root", required=True, help="folder holding <dataset>/outcomes.csv")
    a.add_argument("--datasets", nargs="+", default=["imagenet", "cifar"])
    a.add_argument("--sizes", nargs="*", type=int, default=[224, 160, 128, 96],
                   help="working short sides to compare on imagenet (none: skip)")
    a.add_argument("--timing-folder", help="time families on these images (default: the "
                                           "outcome set's first --timing-images images)")
    a.add_argument("--timing-images", type=int, default=300)
    a.add_argument("--folds", type=int, default=5)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--n-jobs", type=int, default=2)
    a.add_argument("--out", default="benchmarks/ablation.json")
    a.set_defaults(func=cmd_ablation)
