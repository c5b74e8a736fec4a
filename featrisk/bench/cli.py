"""``featrisk bench``: build outcome sets from real classifiers, evaluate, write BENCHMARKS.md.

Commands::

    featrisk bench build imagenet --data ../shared/datasets/imagenet-sample-dev --cache C/imagenet
    featrisk bench build cifar --data ../shared/datasets/cifar10-jpeg.tar.gz --cache C/cifar
    featrisk bench run --cache-root C --out BENCHMARKS.md

The commands live by group: :mod:`featrisk.bench.cli_train` (``train-degradation``,
``train-default``), :mod:`featrisk.bench.cli_studies` (``signals``, ``ablation``),
:mod:`featrisk.bench.cli_run` (``render``, ``run``) and :mod:`featrisk.bench.speed`
(``speed``); this module builds the ``bench`` parser and runs ``build``.

Building needs the ``bench`` extra (torch and the EfficientNet-Lite0 packages); running
needs only the core install (the classifier's outcomes are read from the outcome sets).
"""

from __future__ import annotations

import argparse

from featrisk.bench.cli_run import _earlier_heldout as _earlier_heldout  # re-exported: tests
from featrisk.bench.cli_run import add_run_parsers
from featrisk.bench.cli_run import classifier_note as classifier_note
from featrisk.bench.cli_studies import add_study_parsers
from featrisk.bench.cli_train import add_train_parsers


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
    add_train_parsers(bsub)
    add_study_parsers(bsub)
    add_run_parsers(bsub)
    from featrisk.bench.speed import add_speed_parser

    add_speed_parser(bsub)
