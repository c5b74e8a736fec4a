"""Speed benchmark: featrisk extraction against decoding, a CNN classifier and CleanVision.

One call of :func:`speed_benchmark` measures, in one run and one process, on the same files:

- ``decode_ratio``: featrisk extraction time / ``cv2.imread`` time on ImageNet-size JPEGs
  (target <= 2);
- ``classifier_ratio``: featrisk images/s / EfficientNet-Lite0 images/s (decode,
  ``center_crop_224`` and batch-32 CPU inference; target >= 10);
- ``cifar_images_per_s_per_core``: featrisk images/s on 32x32 CIFAR JPEGs (target >= 2000);
- ``cleanvision_ratio``: featrisk images/s / CleanVision ``find_issues`` images/s with the
  same number of processes (target >= 3);
- ``array_speedup``: path-route time / array-route time on the same photos, the arrays
  being what ``cv2.imread`` decoded (RGB), as a classifier's loader hands them over
  (target >= 2); ``bytes_speedup`` the same for the files' bytes already in memory;
- ``scaling_efficiency``: ``n_jobs=-1`` images/s / (one process's images/s x cores), on the
  ImageNet files (no target; 1 is perfect);
- ``memory_growth``: peak resident memory of ``featrisk extract --list`` streaming
  ``memory_counts[1]`` files over that of ``memory_counts[0]`` files (default 10,000 and
  100,000; the CIFAR files repeated in turn, since what could grow with the count is the
  bookkeeping per image, not the pixels; target <= 1.25, i.e. flat);

each for both extraction profiles (:mod:`featrisk.profiles`; the fast profile's ratios are
prefixed ``fast_``), plus raw images/s of each, the load average before each measurement
(timings taken on a busy machine are not comparable) and a cProfile summary of featrisk
extraction per profile.

featrisk, ``cv2.imread`` and CleanVision run in one process with one thread (OpenCV and BLAS
pinned, as in featrisk's workers). PyTorch uses ``classifier_threads`` threads (default: all
cores), which makes the classifier ratio conservative. Optional packages (torch and the
EfficientNet wheels from ``featrisk[bench]``; ``cleanvision``) are imported here only; a
missing one skips its measurement with the reason in the result.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2

__all__ = ["list_images", "machine_description", "speed_benchmark", "cmd_speed", "add_speed_parser"]

#: File extensions counted as images when listing a folder.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
#: Targets of the speed issue, recorded next to each ratio (the same for both profiles).
_BASE_TARGETS = {
    "decode_ratio": ("<=", 2.0),
    "classifier_ratio": (">=", 10.0),
    "cifar_images_per_s_per_core": (">=", 2000.0),
    "cleanvision_ratio": (">=", 3.0),
    "array_speedup": (">=", 2.0),
}
#: Target of the peak-memory ratio between the two stream sizes (profile-independent).
MEMORY_TARGET = ("<=", 1.25)
#: Profile name -> prefix of its ratio names.
PREFIXES = {"default": "", "fast": "fast_"}
TARGETS = {f"{pre}{k}": v for pre in PREFIXES.values() for k, v in _BASE_TARGETS.items()}


def list_images(folder: str | os.PathLike[str], n: int) -> list[str]:
    """The first ``n`` image files of a folder in name order (non-images such as CSVs skipped)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder of images")
    paths = sorted(str(p) for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise FileNotFoundError(f"{root}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
    return paths[:n]


def machine_description() -> str:
    """The CPU model (``/proc/cpuinfo``), core count and kernel: which machine a figure is from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best wall time of ``repeats`` calls (seconds), and the 1-min load average before them."""
    load = _load()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best, load


def _imread_all(paths: Sequence[str]) -> None:
    for p in paths:
        cv2.imread(p, cv2.IMREAD_COLOR)


def _classifier_run(paths: Sequence[str], threads: int | None) -> Callable[[], object]:
    import numpy as np

    from featrisk.bench.classifiers import EfficientNetLite0, center_crop_224

    model = EfficientNetLite0(batch_size=32, num_threads=threads)

    def run() -> None:
        for start in range(0, len(paths), 32):
            crops = [center_crop_224(cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB))
                     for p in paths[start : start + 32]]
            model.predict_proba(np.stack(crops))

    model.predict_proba(np.zeros((2, 224, 224, 3), np.uint8))  # warm-up: lazy init, allocator
    return run


def _cleanvision_run(paths: Sequence[str]) -> Callable[[], object]:
    from cleanvision import Imagelab

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            Imagelab(filepaths=list(paths)).find_issues(n_jobs=1, verbose=False)

    return run


#: Run in the child of :func:`peak_rss_mb`: the CLI, then the child's own high-water mark.
_MEASURED_CLI = """
import sys
from featrisk.cli import main
code = main(sys.argv[2:])
with open("/proc/self/status") as status, open(sys.argv[1], "w") as out:
    out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
raise SystemExit(code)
"""


def peak_rss_mb(files: Sequence[str], count: int, workdir: str | os.PathLike[str]) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time (s) of ``featrisk extract`` streaming ``count`` files.

    ``files`` are repeated in turn up to ``count`` paths, written to a list file, and extracted
    by the CLI in a child process (one worker, no progress bar) to a parquet table under
    ``workdir``. The child reports its own ``VmHWM`` (Linux ``/proc/self/status``), the peak of
    its memory since it started; ``ru_maxrss`` would not do, as a child inherits its parent's
    peak through fork and exec.
    """
    work = Path(workdir)
    listing = work / f"list_{count}.txt"
    listing.write_text("\n".join(files[i % len(files)] for i in range(count)) + "\n")
    report = work / f"peak_{count}.txt"
    cmd = [sys.executable, "-c", _MEASURED_CLI, str(report), "extract", "--list", str(listing),
           "--out", str(work / f"out_{count}.parquet"), "--n-jobs", "1", "--quiet", "--overwrite"]
    errors = work / f"stderr_{count}.txt"
    t0 = time.perf_counter()
    with errors.open("wb") as err:  # a file, not a pipe: a chatty child cannot block on it
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, check=False).returncode
    seconds = time.perf_counter() - t0
    if code:
        tail = errors.read_text(errors="replace")[-500:]
        raise RuntimeError(f"featrisk extract of {count} files failed ({code}): {tail}")
    return int(report.read_text()) / 1024.0, seconds  # VmHWM is in kB


def profile_summary(paths: Sequence[str], *, top: int = 15, profile: str = "default") -> str:
    """cProfile of one featrisk extraction of ``paths``: the top functions by own time, as text."""
    import featrisk

    prof = cProfile.Profile()
    prof.enable()
    featrisk.extract(list(paths), n_jobs=1, profile=profile)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    return text[text.find("ncalls") :].rstrip() if "ncalls" in text else text.rstrip()


def speed_benchmark(
    imagenet_dir: str | os.PathLike[str],
    cifar_images_dir: str | os.PathLike[str],
    *,
    n: int = 500,
    repeats: int = 2,
    classifier: bool = True,
    cleanvision: bool = True,
    classifier_threads: int | None = None,
    profile: bool = True,
    memory_counts: tuple[int, int] | None = (10_000, 100_000),
) -> dict[str, object]:
    """Measure featrisk's speed against decoding, EfficientNet-Lite0 and CleanVision.

    Parameters
    ----------
    imagenet_dir, cifar_images_dir : path
        Folders of ImageNet-size and of CIFAR-size (32x32) images; the first ``n`` image
        files of each (name order) are used.
    n : int, default 500
        Images per folder.
    repeats : int, default 2
        Timed runs of featrisk and of ``cv2.imread``; the best is kept (the first run also
        warms the page cache). The classifier and CleanVision run once, after a warm-up.
    classifier, cleanvision : bool, default True
        Measure these baselines (each is skipped, with the reason, if its package is missing).
    classifier_threads : int or None
        ``torch.set_num_threads`` for the classifier; None keeps PyTorch's default (all cores).
    profile : bool, default True
        Add ``profile``: cProfile's top functions of one featrisk run on the ImageNet files.
    memory_counts : (int, int) or None, default (10000, 100000)
        Stream sizes of the peak-memory measure (:func:`peak_rss_mb` on the CIFAR files);
        None skips it, as does a system without ``/proc`` (the reason in ``skipped``).

    Returns
    -------
    dict
        ``images_per_s`` (raw throughput of each measurement), ``seconds``, ``load_1min``
        before each, the four ratios under ``ratios`` with ``targets`` and ``meets_target``,
        ``skipped`` reasons, ``peak_rss_mb`` and ``stream_seconds`` per stream size, and
        ``profile`` (text). Higher ratios are better except
        ``decode_ratio`` (featrisk time / decode time, lower is better).
    """
    import featrisk
    from featrisk.extract import single_threaded

    big = list_images(imagenet_dir, n)
    small = list_images(cifar_images_dir, n)
    seconds: dict[str, float] = {}
    loads: dict[str, float] = {}
    skipped: dict[str, str] = {}
    counts = {"imagenet": len(big), "cifar": len(small)}

    with single_threaded():
        featrisk.extract(big[:8] + small[:8])  # warm-up: imports, lazy tables
        _imread_all(big)
        seconds["imread_imagenet"], loads["imread_imagenet"] = _timed(lambda: _imread_all(big),
                                                                      repeats)
        arrays = [cv2.cvtColor(cv2.imread(p, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in big]
        encoded = [Path(p).read_bytes() for p in big]
        for prof, pre in PREFIXES.items():
            for key, items in (("imagenet", big), ("cifar", small), ("array_imagenet", arrays),
                               ("bytes_imagenet", encoded)):
                name = f"featrisk_{pre}{key}"
                seconds[name], loads[name] = _timed(
                    lambda items=items, prof=prof: featrisk.extract(items, n_jobs=1, profile=prof),
                    repeats)
        del arrays, encoded
        if cleanvision:
            try:
                run = _cleanvision_run(big)
            except ImportError as exc:
                skipped["cleanvision"] = f"{exc}; pip install cleanvision"
            else:
                seconds["cleanvision_imagenet"], loads["cleanvision_imagenet"] = _timed(run, 1)
    workers = os.cpu_count() or 1
    seconds["featrisk_all_cores_imagenet"], loads["featrisk_all_cores_imagenet"] = _timed(
        lambda: featrisk.extract(big, n_jobs=-1), repeats)
    if classifier:
        try:
            run = _classifier_run(big, classifier_threads)
        except ImportError as exc:
            skipped["classifier"] = str(exc)
        else:
            seconds["classifier_imagenet"], loads["classifier_imagenet"] = _timed(run, 1)

    memory: dict[str, float] = {}
    stream_seconds: dict[str, float] = {}
    if memory_counts and not Path("/proc/self/status").exists():
        skipped["memory"] = "no /proc/self/status to read the peak memory from (Linux only)"
        memory_counts = None
    if memory_counts:
        with tempfile.TemporaryDirectory(prefix="featrisk-memory-") as tmp:
            for count in memory_counts:
                loads[f"memory_{count}"] = _load()
                memory[str(count)], stream_seconds[str(count)] = peak_rss_mb(small, count, tmp)

    ips = {k: counts[k.rsplit("_", 1)[1]] / v for k, v in seconds.items()}
    scaling = ips["featrisk_all_cores_imagenet"] / (ips["featrisk_imagenet"] * workers)
    ratios: dict[str, float] = {}
    for pre in PREFIXES.values():
        ratios[f"{pre}decode_ratio"] = (seconds[f"featrisk_{pre}imagenet"]
                                        / seconds["imread_imagenet"])
        ratios[f"{pre}cifar_images_per_s_per_core"] = ips[f"featrisk_{pre}cifar"]
        ratios[f"{pre}array_speedup"] = (seconds[f"featrisk_{pre}imagenet"]
                                         / seconds[f"featrisk_{pre}array_imagenet"])
        ratios[f"{pre}bytes_speedup"] = (seconds[f"featrisk_{pre}imagenet"]
                                         / seconds[f"featrisk_{pre}bytes_imagenet"])
        if "classifier_imagenet" in ips:
            ratios[f"{pre}classifier_ratio"] = (ips[f"featrisk_{pre}imagenet"]
                                                / ips["classifier_imagenet"])
        if "cleanvision_imagenet" in ips:
            ratios[f"{pre}cleanvision_ratio"] = (ips[f"featrisk_{pre}imagenet"]
                                                 / ips["cleanvision_imagenet"])
    ratios["scaling_efficiency"] = scaling
    targets = dict(TARGETS)
    if memory_counts:
        ratios["memory_growth"] = memory[str(memory_counts[1])] / memory[str(memory_counts[0])]
        targets["memory_growth"] = MEMORY_TARGET
    meets = {k: (v <= targets[k][1]) if targets[k][0] == "<=" else (v >= targets[k][1])
             for k, v in ratios.items() if k in targets}
    result: dict[str, object] = {
        "n_images": counts,
        "machine": machine_description(),
        "cpu_count": os.cpu_count(),
        "images_per_s": {k: round(v, 1) for k, v in ips.items()},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "load_1min": loads,
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "targets": {k: f"{op} {t:g}" for k, (op, t) in targets.items()},
        "meets_target": meets,
        "skipped": skipped,
        "peak_rss_mb": {k: round(v, 1) for k, v in memory.items()},
        "stream_seconds": {k: round(v, 1) for k, v in stream_seconds.items()},
    }
    if profile:
        result["profile"] = profile_summary(big)
        result["profile_fast"] = profile_summary(big, profile="fast")
    return result


def cmd_speed(args: argparse.Namespace) -> int:
    """``featrisk bench speed``: run :func:`speed_benchmark`, print a summary, save JSON."""
    counts = tuple(args.memory_counts) if args.memory_counts else None
    result = speed_benchmark(args.imagenet, args.cifar, n=args.n, repeats=args.repeats,
                             classifier=not args.no_classifier, cleanvision=not args.no_cleanvision,
                             memory_counts=counts)
    for key, value in result["ratios"].items():  # type: ignore[union-attr]
        met = result["meets_target"].get(key)  # type: ignore[union-attr]
        ok = "" if met is None else ("ok" if met else "MISSED")
        target = result["targets"].get(key, "")  # type: ignore[union-attr]
        print(f"{key:32s} {value:10.3f}   target {target:8s} {ok}")
    print("images/s:", json.dumps(result["images_per_s"]), " load:", json.dumps(result["load_1min"]))
    result["command"] = " ".join(["featrisk bench speed", *map(shlex.quote, sys.argv[3:])])
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"featrisk bench speed -> {args.out}")
    return 0


def add_speed_parser(bsub: argparse._SubParsersAction) -> None:
    """Attach ``featrisk bench speed`` to the ``bench`` subcommand group."""
    s = bsub.add_parser("speed", help="time featrisk against decoding, EfficientNet-Lite0 and "
                                      "CleanVision (needs featrisk[bench] and cleanvision)")
    s.add_argument("--imagenet", required=True, help="folder of ImageNet-size images")
    s.add_argument("--cifar", required=True, help="folder of 32x32 CIFAR images")
    s.add_argument("--n", type=int, default=500, help="images per folder (default 500)")
    s.add_argument("--repeats", type=int, default=2)
    s.add_argument("--no-classifier", action="store_true")
    s.add_argument("--no-cleanvision", action="store_true")
    s.add_argument("--memory-counts", type=int, nargs=2, default=[10_000, 100_000],
                   metavar=("SMALL", "LARGE"),
                   help="stream sizes of the peak-memory measure (default 10000 100000)")
    s.add_argument("--no-memory", dest="memory_counts", action="store_const", const=None,
                   help="skip the peak-memory measure")
    s.add_argument("--out", default="benchmarks/speed.json")
    s.set_defaults(func=cmd_speed)
