"""A JUnit XML verdict on a report, for CI gates (one test case per threshold)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

__all__ = ["write_junit"]


def _check(summary: dict[str, Any], key: str, limit: float, *, above: bool) -> tuple[str, str | None]:
    """Name of the check and its failure message (None when it passes)."""
    name = f"{key} {'<=' if above else '>='} {limit:g}"
    scores = summary.get("summary")
    if not scores:
        why = summary.get("summary_note") or "the report has no outcomes (pass correct= / --labels)"
        return name, f"cannot check {key}: {why}"
    m = scores[key]
    value = m["value"]
    failed = value > limit if above else value < limit
    if not failed:
        return name, None
    return name, (f"{key} is {value:.4f} (95% interval {m['low']:.4f}-{m['high']:.4f}), "
                  f"{'above' if above else 'below'} the limit {limit:g}")


def write_junit(summary: dict[str, Any], path: str | os.PathLike[str], *,
                fail_if_auroc_below: float | None = None,
                fail_if_ece_above: float | None = None) -> bool:
    """Write a JUnit XML file with one test case per requested threshold.

    Parameters
    ----------
    summary : dict
        The dict :func:`featrisk.report.report` returned (or read back from its JSON).
    path : path-like
        XML file to write.
    fail_if_auroc_below : float, optional
        Fail when the AUROC of the risk score (point estimate) is below this.
    fail_if_ece_above : float, optional
        Fail when the calibration error (ECE, point estimate) is above this.

    Returns
    -------
    bool
        True when every check passed. A check that cannot be made (no outcomes, or only one
        class among them) fails. With no threshold, one passing case records the report.
    """
    checks = []
    if fail_if_auroc_below is not None:
        checks.append(_check(summary, "auroc", float(fail_if_auroc_below), above=False))
    if fail_if_ece_above is not None:
        checks.append(_check(summary, "ece", float(fail_if_ece_above), above=True))
    if not checks:
        checks.append(("report written", None))
    failures = sum(msg is not None for _, msg in checks)
    suite = ET.Element("testsuite", name="featrisk.report", tests=str(len(checks)),
                       failures=str(failures), errors="0", skipped="0")
    title = str(summary.get("title", "featrisk report"))
    for name, msg in checks:
        case = ET.SubElement(suite, "testcase", classname="featrisk.report", name=f"{title}: {name}")
        if msg is not None:
            ET.SubElement(case, "failure", message=msg, type="threshold").text = msg
    root = ET.Element("testsuites", tests=str(len(checks)), failures=str(failures))
    root.append(suite)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(p, encoding="utf-8", xml_declaration=True)
    return failures == 0
