"""``featrisk bench train-degradation`` and ``train-default``: fit the models the package ships."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from featrisk.api import default_model_file
from featrisk.bench.feature_cache import composed_rows, features_cached
from featrisk.degradation import estimator_file
from featrisk.profiles import PROFILES
from featrisk.schema import SCHEMA_VERSION


def cmd_train_degradation(args: argparse.Namespace) -> int:
    from featrisk.degradation import fit_estimator

    frames, outs = [], []
    for name in args.datasets:
        cache = Path(args.cache_root) / name
        outcomes = pd.read_csv(cache / "outcomes.csv")
        features, _ = features_cached(outcomes, cache, n_jobs=args.n_jobs, profile=args.profile)
        ok = features["error"].isna().to_numpy()
        frames.append(features[ok])
        outs.append(outcomes.loc[ok, ["degradation", "severity"]])
        print(f"{name}: {int(ok.sum())} images")
    if not args.no_skimage:
        from featrisk.bench.skimage_set import build_skimage_set

        cache = Path(args.cache_root) / "skimage"
        table = build_skimage_set(cache / "images")
        features, _ = features_cached(table, cache, n_jobs=args.n_jobs, profile=args.profile)
        ok = features["error"].isna().to_numpy()
        frames.append(features[ok])
        outs.append(table.loc[ok, ["degradation", "severity"]])
        print(f"skimage: {int(ok.sum())} images")
    features = pd.concat(frames, ignore_index=True)
    features.attrs["featrisk_schema"] = SCHEMA_VERSION
    features.attrs["featrisk_profile"] = args.profile
    labels = pd.concat(outs, ignore_index=True)
    composed = None
    if "imagenet" in args.datasets and not args.no_composed:
        composed = composed_rows(Path(args.cache_root), n_jobs=args.n_jobs, profile=args.profile)
        print(f"composed: {len(set(composed.features['path']))} images")
    est = fit_estimator(features, labels["degradation"], labels["severity"], also=composed)
    est.training_summary_["datasets"] = (list(args.datasets) + ([] if args.no_skimage else
                                                                ["skimage"])
                                         + ([] if composed is None else ["composed"]))
    out = args.out or f"featrisk/models/{estimator_file(args.profile)}"
    est.save(out)
    size = Path(out).stat().st_size / 1e6
    print(f"featrisk bench train-degradation: {len(labels)} images -> {out} ({size:.1f} MB)")
    return 0


def cmd_train_default(args: argparse.Namespace) -> int:
    from featrisk.degradation import cross_fit_transform
    from featrisk.model import RiskModel

    cache = Path(args.cache_root) / args.dataset
    outcomes = pd.read_csv(cache / "outcomes.csv")
    features, _ = features_cached(outcomes, cache, n_jobs=args.n_jobs, profile=args.profile)
    ok = features["error"].isna().to_numpy()
    features, outcomes = features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)
    features.attrs["featrisk_schema"] = SCHEMA_VERSION
    features.attrs["featrisk_profile"] = args.profile
    groups = outcomes["source_id"].to_numpy()
    # the shipped estimator saw these images: feed the risk model out-of-fold estimator outputs,
    # as the shipped estimator gives on images it never saw
    composed = (composed_rows(Path(args.cache_root), n_jobs=args.n_jobs, profile=args.profile)
                if args.dataset == "imagenet" and not args.no_composed else None)
    extra = cross_fit_transform(features, outcomes["degradation"].to_numpy(str),
                                outcomes["severity"].to_numpy(float), groups=groups,
                                also=composed)
    model = RiskModel(profile=args.profile).fit(features, outcomes["correct"].to_numpy(bool),
                                                groups=groups, extra=extra.reset_index(drop=True))
    out = args.out or f"featrisk/models/{default_model_file(args.profile)}"
    model.save(out)
    s = model.training_summary_
    print(f"featrisk bench train-default: {s['n_images']} images, OOF AUROC {s['oof_auroc']:.3f}, "
          f"ECE {s['oof_ece']:.3f} -> {out}")
    return 0


def add_train_parsers(bsub: argparse._SubParsersAction) -> None:
    """Attach ``train-degradation`` and ``train-default`` to the ``bench`` command group."""
    t = bsub.add_parser("train-degradation",
                        help="fit the shipped degradation estimator on the outcome sets' images "
                             "and their known degradations (no classifier outcomes used)")
    t.add_argument("--cache-root", required=True)
    t.add_argument("--datasets", nargs="+", default=["imagenet", "cifar"])
    t.add_argument("--profile", choices=list(PROFILES), default="default",
                   help="extraction profile of the estimator's features")
    t.add_argument("--out", help="estimator file (default: the package's file for --profile)")
    t.add_argument("--no-skimage", action="store_true",
                   help="leave out the degraded scikit-image photos (featrisk.bench.skimage_set)")
    t.add_argument("--no-composed", action="store_true",
                   help="leave out the composed-damage images (featrisk.bench.composed_set)")
    t.add_argument("--n-jobs", type=int, default=2)
    t.set_defaults(func=cmd_train_degradation)
    d = bsub.add_parser("train-default",
                        help="fit the package's default risk model on an outcome set")
    d.add_argument("--cache-root", required=True)
    d.add_argument("--dataset", default="imagenet")
    d.add_argument("--profile", choices=list(PROFILES), default="default",
                   help="extraction profile of the model's features")
    d.add_argument("--out", help="model file (default: the package's file for --profile)")
    d.add_argument("--no-composed", action="store_true",
                   help="train the estimators that feed it without the composed-damage images")
    d.add_argument("--n-jobs", type=int, default=2)
    d.set_defaults(func=cmd_train_default)
