"""``featrisk report``: write the HTML report and its JSON, optionally a JUnit verdict.

Exit codes as the rest of the CLI (0 ok, 2 usage, 3 featrisk error, 4 no image), plus 5
when a ``--fail-if-*`` threshold fails; the report, JSON and XML are written first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import featrisk
from featrisk.cli_files import (
    EXIT_EMPTY,
    EXIT_OK,
    UsageError,
    collect_paths,
    features_for,
    outcomes_kwargs,
    read_table,
    resolve_table_paths,
)
from featrisk.model import outcomes_from
from featrisk.report import json_path_for, report, write_junit

__all__ = ["EXIT_THRESHOLD", "add_report_parser", "cmd_report"]

#: Exit code when a --fail-if-* threshold fails.
EXIT_THRESHOLD = 5


def _outputs(args: argparse.Namespace) -> list[Path]:
    out = [Path(args.out), json_path_for(args.out)]
    return out + ([Path(args.junit)] if args.junit else [])


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``featrisk report``; return the exit code."""
    if Path(args.out).suffix.lower() == ".json":
        raise UsageError(f"-o/--out is the HTML file (e.g. report.html); got {args.out}")
    if (args.fail_if_auroc_below is not None or args.fail_if_ece_above is not None) and not args.junit:
        raise UsageError("--fail-if-* needs --junit FILE to write the verdict to")
    existing = [str(p) for p in _outputs(args) if p.exists()]
    if existing and not args.overwrite:
        raise UsageError(f"{', '.join(existing)} exist(s); pass --overwrite to replace")
    model = featrisk.load(args.model)
    correct: Any = None
    extra = None
    if args.labels:
        if args.paths or args.list:
            raise UsageError("give images either with --labels or as paths, not both")
        labels = read_table(args.labels)
        paths = resolve_table_paths(labels, args.labels)
        correct = outcomes_from(**outcomes_kwargs(labels, args.labels)) == 0
        wanted = args.extra if args.extra is not None else [
            c for c in [*model.extra_columns_, *(model.hybrid_ or {}).get("columns", []),
                        "softmax_max_prob"] if c in labels.columns]
        missing = [c for c in wanted if c not in labels.columns]
        if missing:
            raise UsageError(f"{args.labels}: no column(s) {', '.join(missing)}")
        if wanted:
            extra = labels[list(dict.fromkeys(wanted))].reset_index(drop=True)
    else:
        paths = collect_paths(args.paths, args.list)
        if not paths and not args.features:
            print("featrisk report: no images found", file=sys.stderr)
            return EXIT_EMPTY
    X = features_for(args, paths, model.profile)
    summary = report(model, X, correct, out=args.out, extra=extra, title=args.title,
                     target_accuracy=args.target_accuracy, images=not args.no_images,
                     n_jobs=args.n_jobs)
    s = summary["summary"]
    line = f"featrisk report: {summary['n_scored']} images"
    if s:
        line += (f", error rate {s['base_error_rate']:.3f}, AUROC {s['auroc']['value']:.3f} "
                 f"[{s['auroc']['low']:.3f}, {s['auroc']['high']:.3f}], ECE {s['ece']['value']:.3f}")
    print(f"{line} -> {args.out} (+ {summary['json_name']})")
    if args.junit:
        passed = write_junit(summary, args.junit, fail_if_auroc_below=args.fail_if_auroc_below,
                             fail_if_ece_above=args.fail_if_ece_above)
        print(f"featrisk report: {'passed' if passed else 'FAILED'} -> {args.junit}")
        if not passed:
            return EXIT_THRESHOLD
    return EXIT_OK


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``report`` command to the ``featrisk`` parser's subparsers."""
    p = subparsers.add_parser(
        "report", help="write an HTML feature-importance report (+ JSON, optional JUnit verdict)",
        description="Score images with a fitted model and write one self-contained HTML report, "
                    "the same numbers as JSON beside it, and optionally a JUnit XML verdict.",
    )
    p.add_argument("paths", nargs="*", help="image files or folders (when there is no --labels)")
    p.add_argument("--list", help="text file with one image path per line, or a CSV / parquet "
                   "table with a 'path' column")
    p.add_argument("--model", "-m", required=True, help="model file from 'featrisk fit'")
    p.add_argument("--labels",
                   help="table with 'path' and 'correct' (or 'y_true' and 'y_pred') columns; "
                        "relative paths are relative to the table's folder")
    p.add_argument("--features", help="features table from 'featrisk extract' (else extracted)")
    p.add_argument("--extra", nargs="*",
                   help="label-table columns passed as extra (default: the model's extra columns "
                        "and softmax_max_prob, when the table has them)")
    p.add_argument("--out", "-o", required=True, help="HTML file to write; the JSON goes beside it")
    p.add_argument("--title", help="page title")
    p.add_argument("--target-accuracy", type=float,
                   help="also show the threshold for this accuracy of accepted images (0-1)")
    p.add_argument("--no-images", action="store_true", help="no thumbnails in the gallery")
    p.add_argument("--junit", help="write a JUnit XML verdict here")
    p.add_argument("--fail-if-auroc-below", type=float, help="fail (exit 5) when AUROC < this")
    p.add_argument("--fail-if-ece-above", type=float, help="fail (exit 5) when ECE > this")
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes (-1: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.set_defaults(func=cmd_report)
    return p
