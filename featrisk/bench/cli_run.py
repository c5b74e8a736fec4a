"""``featrisk bench run`` and ``render``: evaluate the outcome sets and write BENCHMARKS.md."""

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

from featrisk.bench.feature_cache import composed_rows, features_cached
from featrisk.bench.speed import machine_description
from featrisk.profiles import PROFILES, get_profile

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


def add_run_parsers(bsub: argparse._SubParsersAction) -> None:
    """Attach ``render`` and ``run`` to the ``bench`` command group."""
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


def _with_argv(args: argparse.Namespace) -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("run") + 1:] if "run" in sys.argv else []
    args.argv = argv
    return args
