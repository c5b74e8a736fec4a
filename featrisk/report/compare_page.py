"""The HTML page of :func:`featrisk.compare`: which failure predictor to use, and on what.

One self-contained page in the risk report's look (the CSS, Content-Security-Policy and
cell helpers of :mod:`featrisk.report.render`, the thumbnails of
:mod:`featrisk.report.thumbs`): the recommendation, the comparison table with its
intervals, what the stacked hybrid kept, the per-class error rates, the most confused class
pairs with example images, and the images that look damaged and score highest by the
image-only model. It shows what a :class:`~featrisk.compare.Comparison` holds and computes
nothing new beyond choosing rows to show. A part whose input is missing is left out, and
one line in its place names the input that would add it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from featrisk._atomic import atomic_write
from featrisk.approaches import IMAGE
from featrisk.report import _version
from featrisk.report.render import CSP, CSS, card, ci, e, num, pct, table, verdict
from featrisk.report.thumbs import thumbnail

if TYPE_CHECKING:  # the comparison renders itself with this page: a type here, no import
    from featrisk.compare import Comparison

__all__ = ["render_comparison", "write_comparison"]

#: Classes in the per-class table, worst first.
TOP_CLASSES = 15
#: Images in the "looks damaged" gallery, highest image-only score first.
TOP_DAMAGED = 12
#: Order of the subsets in the comparison table; any other subset follows them.
SUBSETS = ("all", "looks damaged", "looks clean")

#: (anchor, title, body or None when left out, the line shown instead when left out)
Section = tuple[str, str, str | None, str]


def _per_image(values: Any, name: str, n: int) -> np.ndarray | None:
    """``values`` as a 1-D array of one entry per compared image, or None."""
    if values is None:
        return None
    a = np.asarray(values)
    if a.ndim != 1 or len(a) != n:
        raise ValueError(f"{name} must hold one value per compared image ({n}, the rows of "
                         f"comparison.scores); received shape {a.shape}; pass it in the order "
                         "the images were given to compare")
    return a


def _label(c: Any, class_names: Sequence[str] | Mapping[Any, str] | None) -> str:
    """Display text of class ``c`` (unescaped): its name when one is given, else its index."""
    if class_names is None:
        return str(c)
    if isinstance(class_names, Mapping):
        return str(class_names.get(c, c))
    i = int(c)
    return str(class_names[i]) if 0 <= i < len(class_names) else str(c)


def _interval(row: Mapping[str, Any], name: str, *, share: bool = False) -> str:
    """``name`` of a table row with its ``_low`` / ``_high`` bounds; n/a when undefined."""
    v = row[name]
    if v is None or math.isnan(v):
        return "n/a"
    if share:
        return f"{pct(v)} <span class=note>[{pct(row[f'{name}_low'])}, {pct(row[f'{name}_high'])}]</span>"
    return ci({"value": v, "low": row[f"{name}_low"], "high": row[f"{name}_high"]})


def _card(path: str, thumbs: dict[str, str | None], caption: str) -> str:
    """One gallery card (:func:`featrisk.report.render.card`), its thumbnail made once."""
    if path not in thumbs:
        thumbs[path] = thumbnail(path)
    return card(path, Path(path).name, thumbs[path], caption)


def _recommendation(c: Comparison) -> Section:
    body = (f"<p class=lead><b>{e(c.recommendation)}</b></p><p>Every score is out of fold: no "
            "image was scored by anything fitted on it. Higher scores mean more likely wrong. "
            "\u201cLooks damaged\u201d and \u201clooks clean\u201d split the images by the shipped "
            "degradation estimator's best guess from the pixels alone, without the "
            "classifier.</p>")
    return "recommendation", "Recommendation", body, ""


def _table(c: Comparison) -> Section:
    order = {s: i for i, s in enumerate(SUBSETS)}
    head = ["Approach", "Images", "Error rate", "AUROC (higher is better)",
            "AURC (lower is better)", f"Errors caught at {c.flag_rate:.0%} flagged"]
    out = []
    for subset, t in sorted(c.table.groupby("subset", sort=False),
                            key=lambda kv: order.get(kv[0], len(order))):
        t = t.sort_values("auroc", ascending=False, na_position="last")
        rows = [[e(r["approach"]), str(int(r["n"])), pct(r["error_rate"]), _interval(r, "auroc"),
                 _interval(r, "aurc"), _interval(r, "caught", share=True)]
                for r in t.to_dict(orient="records")]
        out.append(f"<h3>{e(str(subset).capitalize())}</h3>" + table(head, rows))
    out.append("<p class=note>Best AUROC first. 95% bootstrap intervals in brackets (resampling "
               "whole groups when compare was given groups). Errors caught: share of the errors "
               f"among the {c.flag_rate:.0%} of images with the highest scores. n/a: the "
               "subset holds no error or no correct image.</p>")
    return "table", "Approaches compared", "".join(out), ""


def _stack(c: Comparison) -> Section:
    d = c.stack_minus_best
    if d is None:
        return ("stack", "Stacked hybrid", None, "No stacked hybrid: compare had a single "
                "score to combine; give it images and classifier outputs (logits, probs, "
                "embeddings, mc_probs or y_true with y_pred) together to add one.")
    diff = (f"{d['value']:+.3f} <span class=note>[{d['low']:+.3f}, {d['high']:+.3f}]</span>"
            if np.isfinite(d["value"]) else "n/a")
    out = [f"<p>AUROC of the stacked hybrid minus that of {e(d['best_single'])}, the best single "
           f"approach, with its paired 95% bootstrap interval: {diff}.</p>"]
    if c.stack_inputs:
        rows = [[e(k), str(v)] for k, v in c.stack_inputs.items()]
        out.append("<p>Inputs the stack kept (forward selection on the training folds' inner "
                   "folds), most often kept first:</p>"
                   + table(["Input", "Training folds that kept it"], rows))
    return "stack", "Stacked hybrid", "".join(out), ""


def _classes(c: Comparison, names: Any) -> Section:
    if c.classes is None:
        return ("classes", "Per-class error rates", None, "Per-class error rates and confused "
                "class pairs need the true classes: give compare y_true (with y_pred, logits or "
                "probs).")
    top = c.classes.head(TOP_CLASSES)
    rows = [[e(_label(r["true_class"], names)), str(int(r["n"])), pct(r["error_rate"])]
            for r in top.to_dict(orient="records")]
    shown = (f"The {len(top)} worst of {len(c.classes)} classes" if len(c.classes) > len(top)
             else "All classes")
    body = (f"<p>{shown}, by the classifier's error rate on images of that true class.</p>"
            + table(["True class", "Images", "Error rate"], rows))
    return "classes", "Per-class error rates", body, ""


def _pairs(c: Comparison, names: Any, paths: list[str] | None, y_true: np.ndarray | None,
           y_pred: np.ndarray | None, examples: int, thumbs: dict[str, str | None]) -> Section:
    if c.pairs is None:
        return "pairs", "Most confused class pairs", None, ""  # _classes already names the input
    if c.pairs.empty:
        return "pairs", "Most confused class pairs", "<p>No two classes were confused.</p>", ""
    rows = [[e(_label(r["class_a"], names)), e(_label(r["class_b"], names)), str(int(r["count"])),
             pct(r["rate"])] for r in c.pairs.to_dict(orient="records")]
    out = ["<p>Class pairs the classifier mixed up most often, in either direction. Count: images "
           "of either class predicted as the other; rate: count over the images of both classes. "
           "Errors concentrated here are look-alike classes rather than damaged images.</p>",
           table(["Class A", "Class B", "Confusions", "Rate"], rows, left=2)]
    if paths is None or y_true is None or y_pred is None:
        need = [n for n, v in (("paths", paths), ("y_true", y_true), ("y_pred", y_pred)) if v is None]
        out.append(f"<p class=note>Pass {', '.join(need)} to to_html to show example images of "
                   "each pair.</p>")
        return "pairs", "Most confused class pairs", "".join(out), ""
    for r in c.pairs.to_dict(orient="records"):
        a, b = r["class_a"], r["class_b"]
        la, lb = _label(a, names), _label(b, names)
        ab = np.flatnonzero((y_true == a) & (y_pred == b))
        ba = np.flatnonzero((y_true == b) & (y_pred == a))
        picked = [i for both in zip_longest(ab, ba) for i in both if i is not None][:examples]
        out.append(f"<h3>{e(la)} and {e(lb)}</h3>")
        cards = [_card(paths[i], thumbs, f"true {e(_label(y_true[i], names))}, predicted "
                       f"<span class=bad>{e(_label(y_pred[i], names))}</span>") for i in picked]
        out.append(f"<div class=cards>{''.join(cards)}</div>" if cards else "<p>None.</p>")
    return "pairs", "Most confused class pairs", "".join(out), ""


def _damaged(c: Comparison, paths: list[str] | None, damaged: np.ndarray | None,
             error: np.ndarray | None, thumbs: dict[str, str | None]) -> Section:
    title = "Looks damaged, highest image-only scores"
    if IMAGE not in c.scores:
        return "damaged", title, None, ("The gallery of damaged-looking images needs the "
                                        "images: give compare X (paths or the feature table).")
    if paths is None or damaged is None:
        return "damaged", title, None, ("The gallery of damaged-looking images needs the "
                                        "images' paths passed to to_html.")
    score = c.scores[IMAGE].to_numpy(np.float64)
    rows = np.flatnonzero(damaged.astype(bool))
    top = rows[np.argsort(-score[rows], kind="stable")][:TOP_DAMAGED]
    cards = [_card(paths[i], thumbs, f"{e(IMAGE)}: {num(float(score[i]))}"
                   + ("" if error is None else verdict(error[i] == 0))) for i in top]
    body = (f"<p>The {len(top)} highest-scored of the {len(rows)} images that look damaged, by the "
            "image-only risk (out of fold).</p>"
            + (f"<div class=cards>{''.join(cards)}</div>" if cards else "<p>None.</p>"))
    return "damaged", title, body, ""


def render_comparison(comparison: Comparison, *, paths: Sequence[str] | None = None,
                      y_true: Any = None, y_pred: Any = None,
                      class_names: Sequence[str] | Mapping[Any, str] | None = None,
                      examples: int = 4, damaged: Any = None) -> str:
    """The whole comparison page as one self-contained HTML string.

    Parameters
    ----------
    comparison : Comparison
        What :func:`featrisk.compare` returned.
    paths : sequence of str, optional
        Image path per compared image, in compare's order; adds thumbnails (decoded here).
    y_true, y_pred : array-like of int, optional
        True and predicted class per image, as given to compare (``y_pred`` is the argmax of
        the logits or probs when compare derived it); pick the example images of each pair.
    class_names : sequence or mapping of str, optional
        Display name per class index; default the index.
    examples : int >= 0, default 4
        Most example images per confused pair.
    damaged : array-like of bool, optional
        True where an image "looks damaged"; default the split of compare's table
        (``comparison.looks_damaged``). With ``paths`` adds the gallery of the
        damaged-looking images featrisk scores highest.

    Returns
    -------
    str
        The HTML page; every user-given text (paths, class names) is escaped.
    """
    n = len(comparison.scores)
    if isinstance(examples, bool) or not isinstance(examples, int | np.integer) or examples < 0:
        raise ValueError(f"examples must be an integer >= 0 (images per pair); received {examples!r}")
    path_list = None if paths is None else [str(p) for p in _per_image(list(paths), "paths", n)]
    yt, yp = _per_image(y_true, "y_true", n), _per_image(y_pred, "y_pred", n)
    dmg = _per_image(comparison.looks_damaged if damaged is None else damaged, "damaged", n)
    error = None if yt is None or yp is None else (yt != yp).astype(np.int8)
    thumbs: dict[str, str | None] = {}
    sections = [_recommendation(comparison), _table(comparison), _stack(comparison),
                _classes(comparison, class_names),
                _pairs(comparison, class_names, path_list, yt, yp, int(examples), thumbs),
                _damaged(comparison, path_list, dmg, error, thumbs)]
    shown = [(key, title) for key, title, body, _ in sections if body is not None]
    number = {key: k for k, (key, _) in enumerate(shown, start=1)}
    nav = "".join(f'<li><a href="#{key}">{e(title)}</a></li>' for key, title in shown)
    parts = []
    for key, title, body, note in sections:
        if body is not None:
            parts.append(f'<section id="{key}"><h2>{number[key]}. {e(title)}</h2>{body}</section>')
        elif note:
            parts.append(f"<p class=note>{e(note)}</p>")
    heading = f"featrisk compare: {n} images"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{e(heading)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{e(heading)}</h1><p class=meta>featrisk {e(_version())}, created "
        f"{e(datetime.now(UTC).isoformat(timespec='seconds'))}. The numbers are those of "
        "<code>Comparison.table</code>.</p>"
        f"<nav><ol>{nav}</ol></nav>{''.join(parts)}</main></body></html>\n"
    )


def write_comparison(comparison: Comparison, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Render the page (see :func:`render_comparison` for ``kwargs``) and write it atomically.

    The page is rendered before the file is touched, so a bad argument leaves any earlier
    page in place. Returns the path written.
    """
    text = render_comparison(comparison, **kwargs)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda fh: fh.write(text.encode("utf-8")))
    return out
