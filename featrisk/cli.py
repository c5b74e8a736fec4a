"""Command-line interface: parses arguments, calls the API, writes files. No maths here.

Exit codes: 0 success; 2 usage error (bad arguments, an output that exists without
``--overwrite``); 3 a featrisk error (unreadable model, wrong schema, missing columns, too few
outcomes to fit); 4 nothing to do (no image found); 130 interrupted (``extract`` keeps its
finished chunks in ``<out>.partial`` and resumes when run again).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import featrisk
from featrisk.cli_files import (
    EXIT_EMPTY,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    collect_paths,
    extra_for,
    features_for,
    outcomes_kwargs,
    read_array,
    read_table,
    resolve_table_paths,
    write_table,
)
from featrisk.demo import run_demo
from featrisk.errors import FeatriskError
from featrisk.profiles import PROFILES, profile_of
from featrisk.report.cli import add_report_parser
from featrisk.stream import extract_to_file, partial_path


def cmd_extract(args: argparse.Namespace) -> int:
    paths = collect_paths(args.paths, args.list)
    if not paths:
        print("featrisk extract: no images found", file=sys.stderr)
        return EXIT_EMPTY
    if Path(args.out).exists() and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it")
    try:
        s = extract_to_file(paths, args.out, n_jobs=args.n_jobs, progress=not args.quiet,
                            chunk_size=args.chunk_size, resume=not args.restart,
                            profile=args.profile)
    except KeyboardInterrupt:
        print(f"featrisk extract: interrupted; finished chunks are kept in "
              f"{partial_path(args.out)}: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    resumed = f" ({s['resumed']} resumed from an interrupted run)" if s["resumed"] else ""
    print(f"featrisk extract: {s['images']} images{resumed}, {len(featrisk.FEATURE_COLUMNS)} "
          f"features, {s['unreadable']} unreadable -> {args.out} in {s['seconds']:.1f} s")
    return EXIT_OK


def cmd_fit(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it")
    labels = read_table(args.labels)
    paths = resolve_table_paths(labels, args.labels)
    outcomes = outcomes_kwargs(labels, args.labels)
    X = features_for(args, paths, args.profile)
    if args.profile is not None and profile_of(X) != args.profile:
        raise UsageError(f"{args.features} was extracted with profile {profile_of(X)}, not "
                         f"--profile {args.profile}")
    extra = labels[args.extra].reset_index(drop=True) if args.extra else None
    groups = labels[args.groups].to_numpy() if args.groups else None
    if not 0 <= args.denoise < 1:
        raise UsageError(f"--denoise must be in [0, 1), got {args.denoise}")
    model = featrisk.fit(X, extra=extra, groups=groups, cv=args.cv, hybrid=args.hybrid,
                         denoise=args.denoise, **outcomes)
    model.save(args.out)
    s = model.training_summary_
    print(f"featrisk fit: {s['n_images']} images, error rate {s['error_rate']:.3f}, "
          f"out-of-fold AUROC {s['oof_auroc']:.3f}, ECE {s['oof_ece']:.3f}, "
          f"{s['n_estimators']} trees, teacher weight {s['denoise']:g} -> {args.out}")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it")
    paths = collect_paths(args.paths, args.list)
    if not paths and not args.features:
        print("featrisk predict: no images found", file=sys.stderr)
        return EXIT_EMPTY
    model = featrisk.load(args.model or featrisk.default_model_path(args.profile or "default"))
    if args.profile is not None and args.profile != model.profile:
        raise UsageError(f"--profile {args.profile} but the model reads profile {model.profile}")
    X = features_for(args, paths, model.profile)
    needed = [*model.extra_columns_, *(model.hybrid_["columns"] if model.hybrid_ else [])]
    # the shipped degradation estimator's outputs are derived from the images; the rest given
    given = [c for c in needed if model.degradation is None or not c.startswith("degradation_")]
    if given and not args.extra:
        raise UsageError(f"the model reads column(s) {', '.join(given)} beside the images; pass "
                         "--extra TABLE with a 'path' column and them")
    result = featrisk.predict(X, model, extra=extra_for(args.extra, X, given), flag_rate=args.flag_rate,
                              target_accuracy=args.target_accuracy,
                              atypicality_threshold=args.atypicality_threshold)
    write_table(result, args.out, overwrite=True)
    flagged = int(result["flagged"].sum())
    bad = int(result["error"].notna().sum())
    print(f"featrisk predict: {len(result)} images, {flagged} flagged "
          f"({flagged / max(len(result), 1):.1%}), {bad} without a risk (see 'error') "
          f"-> {args.out}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    for out in (args.out, args.html):
        if out and Path(out).exists() and not args.overwrite:
            raise UsageError(f"{out} exists; pass --overwrite to replace it")
    labels = read_table(args.labels)
    outcomes = outcomes_kwargs(labels, args.labels)
    arrays = {"logits": read_array(args.logits, "logits"), "probs": read_array(args.probs, "probs"),
              "embeddings": read_array(args.embeddings, "embeddings"),
              "mc_probs": read_array(args.mc_probs, "mc-probs")}
    paths = resolve_table_paths(labels, args.labels) if "path" in labels.columns else []
    X = features_for(args, paths) if args.features or paths else None
    if X is not None and len(X) != len(labels):
        raise UsageError(f"{args.features}: {len(X)} rows of features for {len(labels)} labels; "
                         "give the label table a 'path' column to match them")
    groups = labels[args.groups].to_numpy() if args.groups else None
    res = featrisk.compare(X, **outcomes, **arrays, groups=groups, cv=args.cv,
                           n_boot=args.n_boot)
    write_table(res.table, args.out, overwrite=args.overwrite)
    every = res.table[res.table["subset"] == "all"].sort_values("auroc", ascending=False)
    width = max(len(a) for a in every["approach"])
    print(f"{'approach':<{width}}  AUROC [95% CI]          AURC   errors caught @10%")
    for r in every.itertuples():
        print(f"{r.approach:<{width}}  {r.auroc:.3f} [{r.auroc_low:.3f}, {r.auroc_high:.3f}]  "
              f"{r.aurc:.3f}  {r.caught:.1%}")
    print(res.recommendation)
    if args.html:
        res.to_html(args.html, paths=paths or None, y_true=outcomes.get("y_true"),
                    y_pred=outcomes.get("y_pred"))
    html = f" and {args.html}" if args.html else ""
    print(f"featrisk compare: {len(res.scores)} images -> {args.out}{html}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        run_demo(args.out, overwrite=args.overwrite, quiet=args.quiet)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The ``featrisk`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="featrisk",
        description="Predict which images a classifier will get wrong, from image statistics.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--n-jobs", type=int, default=1, help="worker processes (-1: all cores)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")

    p = sub.add_parser("extract", help="compute image features into a table")
    p.add_argument("paths", nargs="*", help="image files or folders (searched recursively)")
    p.add_argument("--list", help="text file with one image path per line, or a CSV / "
                   "parquet table with a 'path' column")
    p.add_argument("--out", "-o", required=True, help="output table (.parquet or .csv)")
    p.add_argument("--chunk-size", type=int, default=512,
                   help="images extracted and saved together (default 512); an interrupted run "
                        "resumes from its last saved chunk")
    p.add_argument("--restart", action="store_true",
                   help="discard the saved chunks of an interrupted run (<out>.partial) and "
                        "start over")
    p.add_argument("--profile", choices=list(PROFILES), default="default",
                   help="extraction profile: 'fast' shrinks images to about 53x40 px "
                        "(several times faster on photos, less accurate; default: default)")
    common(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("fit", help="fit a risk model on a classifier's validation outcomes")
    p.add_argument("--labels", required=True,
                   help="table with 'path' and 'correct' (or 'y_true' and 'y_pred') columns; "
                        "relative paths are relative to the table's folder")
    p.add_argument("--features", help="features table from 'featrisk extract' (else extracted)")
    p.add_argument("--extra", nargs="+", help="numeric label-table columns to use as inputs")
    p.add_argument("--groups", help="label-table column of group ids (folds keep groups whole)")
    p.add_argument("--cv", type=int, default=5, help="cross-fitting folds (default 5)")
    p.add_argument("--hybrid", choices=["lightgbm", "stack"], default="lightgbm",
                   help="how --extra softmax_* columns enter: as LightGBM inputs (default), or "
                        "'stack': an image-only booster stacked with logit(softmax_max_prob)")
    p.add_argument("--denoise", type=float, default=0.0,
                   help="teacher weight in the training targets, in [0, 1): the booster learns "
                        "(1 - W) x outcome + W x the risk a model of the degradation estimate "
                        "(and --extra columns) gives; 0, the default, learns from the "
                        "outcomes alone")
    p.add_argument("--profile", choices=list(PROFILES),
                   help="extraction profile of the model (default: the --features table's, "
                        "else 'default')")
    p.add_argument("--out", "-o", required=True, help="model file to write (.json)")
    common(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="score images with a fitted model")
    p.add_argument("paths", nargs="*", help="image files or folders")
    p.add_argument("--list", help="text file with one image path per line, or a CSV / "
                   "parquet table with a 'path' column")
    p.add_argument("--features", help="features table from 'featrisk extract'")
    p.add_argument("--model", "-m", help="model file (default: the package's default model)")
    p.add_argument("--extra", help="table with 'path' and the model's extra columns (e.g. "
                                   "softmax_max_prob) for these images")
    p.add_argument("--flag-rate", type=float, help="flag this share of images (0-1)")
    p.add_argument("--target-accuracy", type=float,
                   help="flag so the classifier reaches this accuracy on the rest (0-1)")
    p.add_argument("--atypicality-threshold", type=float,
                   help="also flag images more unusual than this share of the model's correctly "
                        "classified training images (0-1, e.g. 0.99)")
    p.add_argument("--profile", choices=list(PROFILES),
                   help="without --model: use the default model of this extraction profile")
    p.add_argument("--out", "-o", required=True, help="output table (.csv or .parquet)")
    common(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("compare", help="measure every failure predictor on validation outcomes")
    p.add_argument("--labels", required=True,
                   help="table with 'correct' (or 'y_true' and 'y_pred') per image, and 'path' "
                        "when the images are to be scored too")
    p.add_argument("--features", help="features table from 'featrisk extract' (else extracted)")
    p.add_argument("--logits", help=".npy of logits, one row per label-table row")
    p.add_argument("--probs", help=".npy of softmax probabilities")
    p.add_argument("--embeddings", help=".npy of penultimate-layer embeddings")
    p.add_argument("--mc-probs", help=".npy of Monte Carlo dropout probabilities "
                                      "(passes x images x classes)")
    p.add_argument("--groups", help="label-table column of group ids (folds keep groups whole)")
    p.add_argument("--cv", type=int, default=5, help="folds (default 5)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples per interval")
    p.add_argument("--out", "-o", required=True, help="comparison table (.csv or .parquet)")
    p.add_argument("--html", help="also write the comparison as one self-contained HTML page "
                                  "(example images of confused classes when the labels table "
                                  "has 'path', 'y_true' and 'y_pred')")
    common(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("demo", help="fit and evaluate on an embedded demo set (no torch needed)")
    p.add_argument("--out", "-o", default="featrisk-demo", help="output folder")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_demo)

    add_report_parser(sub)
    try:
        from featrisk.bench.cli import add_bench_parser
    except ImportError:
        pass
    else:
        add_bench_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"featrisk {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FeatriskError, ValueError) as exc:
        print(f"featrisk {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
