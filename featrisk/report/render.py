"""Render a report's numbers (the JSON dict) and figures into one self-contained HTML page.

No script, no external resource: a Content-Security-Policy allows only inline styles and
``data:`` images, so the page opens offline in any browser and can fetch nothing. Every
piece of text that comes from the user (file names, paths, title, reasons, feature names)
passes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

SECTIONS = (
    ("summary", "1. Summary"),
    ("thresholds", "2. Thresholds and risk-coverage"),
    ("importance", "3. What drives the risk"),
    ("segments", "4. Failure segments"),
    ("calibration", "5. Calibration"),
    ("gallery", "6. Gallery"),
    ("features", "7. Feature reference"),
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 margin:0;color:#22252b;background:#fafafa;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem 4rem;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2.4rem;
 border-bottom:2px solid #c8384b;padding-bottom:.2rem}h3{font-size:1.02rem;margin:1.4rem 0 .4rem}
.meta,.note{color:#5b616b;font-size:.88rem}.lead{font-size:1.05rem}
nav ol{columns:2;font-size:.92rem;padding-left:1.2rem}a{color:#1b7f8c}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e3e5e8;padding:.3rem .6rem;text-align:right;vertical-align:top}
th{background:#f3f4f6}td.l,th.l{text-align:left}
img.fig{max-width:100%;height:auto;display:block;margin:.6rem 0}
.cards{display:grid;gap:.7rem;grid-template-columns:repeat(auto-fill,minmax(250px,1fr))}
.card{border:1px solid #e3e5e8;border-radius:6px;padding:.5rem;font-size:.8rem;overflow-wrap:anywhere;
 display:grid;grid-template-columns:96px 1fr;column-gap:.6rem;align-content:start}
.card ul{grid-column:1/3}
.card img,.card .noimg{width:96px;height:96px;object-fit:contain;display:block;background:#eee}
.card .noimg{font-size:.7rem;color:#777;text-align:center;line-height:96px}
.card ul{margin:.3rem 0 0;padding-left:1rem}.name{font-weight:600}
.card code.col{color:#5b616b;font-size:.72rem}
.bad{color:#c8384b;font-weight:600}.good{color:#2e7d4f;font-weight:600}
td:not(.l){white-space:nowrap}.nw{white-space:nowrap}
details{margin:.6rem 0}summary{cursor:pointer;color:#1b7f8c}
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def e(value: Any) -> str:
    """HTML-escape any value's text (quotes too, so it is safe in attributes)."""
    return escape(str(value), quote=True)


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"


def ci(m: dict[str, float] | None) -> str:
    if m is None:
        return "n/a"
    return f"{m['value']:.3f} <span class=note>[{m['low']:.3f}, {m['high']:.3f}]</span>"


def table(head: list[str], rows: list[list[str]], *, left: int = 1) -> str:
    """A table of already-escaped cells; the first ``left`` columns align left."""
    def cls(i: int) -> str:
        return " class=l" if i < left else ""
    h = "".join(f"<th{cls(i)}>{c}</th>" for i, c in enumerate(head))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def fig(uri: str | None, alt: str) -> str:
    return "" if not uri else f'<img class=fig src="{e(uri)}" alt="{e(alt)}">'


def _summary(d: dict[str, Any]) -> str:
    s, sm = d["summary"], d["max_softmax"]
    parts = [f"<p class=lead>{d['n_images']} images"]
    if d["n_unreadable"]:
        parts.append(f" ({d['n_unreadable']} could not be read and are left out; first: "
                     f"{e(d['unreadable_example'])})")
    parts.append(".")
    if d["error_rate"] is not None:
        parts.append(f" The classifier got <b>{pct(d['error_rate'])}</b> of the scored images wrong.")
    parts.append("</p>")
    if not d["has_outcomes"]:
        parts.append("<p>No outcomes were given (<code>correct=</code> / <code>--labels</code>): "
                     "this report shows predicted risks, reasons and importance, but no accuracy "
                     f"figures. Mean predicted risk {pct(d['mean_risk'])}; the model's default "
                     f"threshold flags {pct(d['default']['flagged_share'])} of these images.</p>")
    elif s is None:
        parts.append(f"<p>{e(d['summary_note'])}</p>")
    else:
        reads = d.get("classifier_inputs") or []
        label = f"featrisk risk (image + {', '.join(reads)})" if reads else "featrisk risk (image only)"
        cols = ["Score", e(label)] + (["classifier max-softmax"] if sm else [])
        rows = []
        for key, label in (("auroc", "AUROC (higher is better; 0.5 = chance)"),
                           ("auprc", f"AUPRC (higher is better; chance = {pct(s['base_error_rate'])})"),
                           ("aurc", f"AURC (lower is better; best possible {s['aurc_oracle']:.3f})"),
                           ("ece", "Calibration error, ECE (lower is better)")):
            rows.append([e(label), ci(s[key])] + ([ci(sm[key])] if sm else []))
        parts.append(table(cols, rows))
        parts.append("<p class=note>Values with 95% bootstrap intervals in brackets.</p>")
        parts.append(f"<p><b>{e(d['chance'])}</b></p>")
        if sm:
            reads_note = (f"this featrisk model reads it too ({e(', '.join(reads))}), so it "
                          "cannot score an image before the classifier has run" if reads
                          else "featrisk reads only the image")
            parts.append(f"<p>{e(d['softmax_chance'])} The max-softmax score needs the "
                         f"classifier's output; {reads_note}.</p>")
    m = d["model"]
    parts.append(f"<p class=note>Scores are honest only on images the model was not fitted on. "
                 f"On its {m.get('n_images')} training images the model reached an out-of-fold "
                 f"AUROC of {num(m.get('oof_auroc'))} and ECE of {num(m.get('oof_ece'))}.</p>")
    return "".join(parts)


def _thresholds(d: dict[str, Any], figs: dict[str, str]) -> str:
    has = d["has_outcomes"]
    head = ["Flag budget", "Threshold (risk &ge;)", "Flagged"]
    head += ["Errors caught", "Accuracy of accepted"] if has else []
    head += ["Model's threshold for this budget"]
    rows = []
    for r in d["thresholds"]:
        row = [pct(r["flag_rate"], 0), num(r["threshold"]), f"{r['n_flagged']} ({pct(r['flagged_share'])})"]
        row += [pct(r["errors_caught"]), pct(r["accepted_accuracy"])] if has else []
        rows.append(row + [num(r["model_threshold"])])
    out = ["<p>Flag the riskiest images for review, keep the rest. Thresholds in the first "
           "columns are chosen on these images; the last column is the threshold the model "
           "chose for the same budget on its training data (what <code>flag_rate=</code> uses).</p>",
           table(head, rows)]
    for key, label in (("default", "Model's default threshold"), ("target", "Target accuracy")):
        r = d.get(key)
        if not r:
            continue
        if r.get("threshold") is None:
            out.append(f"<p><b>{label} {pct(r['target_accuracy'])}:</b> {e(r['note'])}</p>")
            continue
        what = (f"{label} {pct(r['target_accuracy'])}: threshold {num(r['threshold'])}"
                if key == "target" else f"{label} {num(r['threshold'])}")
        txt = f"<p><b>{e(what)}</b> flags {pct(r['flagged_share'])} of these images"
        if has:
            txt += (f", catches {pct(r['errors_caught'])} of the errors and leaves the "
                    f"accepted images {pct(r['accepted_accuracy'])} accurate")
        acc = r.get("accepted_accuracy")
        if key == "target" and acc is not None and acc < r["target_accuracy"]:
            txt += (", short of the target here: the threshold was chosen on the model's "
                    "training data, and these images differ")
        out.append(txt + (f" ({e(r['note'])})" if r.get("note") else "") + ".</p>")
    out.append(fig(figs.get("risk_coverage"), "risk-coverage curve"))
    return "".join(out)


def _importance(d: dict[str, Any], figs: dict[str, str]) -> str:
    if (d.get("model") or {}).get("hybrid") == "stack":
        inputs = ", ".join(d["classifier_inputs"]) or "none"
        term = (f"a hybrid stack model also adds a weighted term of the classifier's own signals "
                f"it kept ({e(inputs)}), which these contributions leave out")
    else:
        term = "with calibration='stack' it also adds a term for the estimated degradation"
    out = [f"<p>Contributions are TreeSHAP values in <b>log-odds of misclassification</b>: "
           f"positive values raise an image's risk. For each image they sum, with the base "
           f"value ({num(d['base_value'])} log-odds), to the model's raw score, which the "
           f"calibration maps to the risk ({term}).</p>",
           fig(figs.get("importance"), "mean absolute TreeSHAP per feature"),
           fig(figs.get("beeswarm"), "per-image contributions of the top features"),
           "<h3>How the error rate changes along each top feature</h3>",
           fig(figs.get("dependence"), "error rate and mean risk across bins of top features"),
           "<ul>" + "".join(f"<li>{e(v['sentence'])}</li>" for v in d["dependence"].values()) + "</ul>"]
    return "".join(out)


def _segments(d: dict[str, Any]) -> str:
    segs, has = d["segments"], d["has_outcomes"]
    if not segs:
        return "<p>No two-feature range holds enough images with a rate above its parts.</p>"
    base = d["error_rate"] if has else d["mean_risk"]
    head = ["Segment", "Images", "Error rate" if has else "Mean predicted risk", "vs all images"]
    head += ["Mean predicted risk"] if has else []
    rows = []
    for s in segs:
        rate = s["error_rate"] if has else s["mean_risk"]
        row = [" and ".join(f"<code>{e(c)}</code>" for c in s["conditions"]),
               f"{s['count']} ({pct(s['share'])})",
               pct(rate, 0) + (f" <span class=note>({s['errors']} errors)</span>" if has else ""),
               f"{rate / base:.1f}x" if base else "n/a"]
        rows.append(row + ([pct(s["mean_risk"], 0)] if has else []))
    note = ("Ranked by the lower end of the 95% Wilson interval of the error rate."
            if has else "No outcomes were given: segments are ranked by mean predicted risk.")
    return ("<p>Pairs of ranges of the top features where the classifier fails most, each "
            "holding at least 3% of the images. Found by searching these images, so treat them "
            f"as leads to check on new data. {note}</p>" + table(head, rows))


def _calibration(d: dict[str, Any], figs: dict[str, str]) -> str:
    if d["calibration"] is None:
        txt = ("<p>No outcomes were given, so calibration cannot be checked; the histogram "
               "shows the risks.</p>")
    else:
        txt = ("<p>Each point is a bin of images with similar predicted risk; on the dashed line "
               "the predicted risk equals the observed error rate. ECE " +
               (num(d["summary"]["ece"]["value"]) if d["summary"] else "n/a") + ".</p>")
    return txt + fig(figs.get("calibration"), "calibration plot")


def _reason_items(r: dict[str, Any]) -> list[str]:
    """One list item per reason: the words, then the column name in small code type."""
    words = [x for x in str(r.get("reasons") or "").split("; ") if x]
    columns = [x for x in str(r.get("reason_features") or "").split("; ") if x]
    if len(columns) != len(words):  # a table from before reason_features: words only
        columns = [""] * len(words)
    return [f"<li>{e(w)}" + (f" <code class=col>{e(c)}</code>" if c else "") + "</li>"
            for w, c in zip(words, columns, strict=True)]


def verdict(correct: bool) -> str:
    """" right" or " wrong", coloured."""
    return " <span class=good>right</span>" if correct else " <span class=bad>wrong</span>"


def card(path: str, name: str, uri: str | None, caption: str, below: str = "") -> str:
    """One gallery card: the thumbnail (or a placeholder), the escaped file name, a caption
    (HTML, escaped by the caller) and optional HTML below it."""
    img = f'<img src="{e(uri)}" alt="{e(name)}">' if uri else "<div class=noimg>no image</div>"
    return (f'<div class=card>{img}<div><div class=name title="{e(path)}">{e(name)}</div>'
            f"{caption}</div>{below}</div>")


def _card(r: dict[str, Any], thumbs: dict[str, str | None]) -> str:
    items = "".join(_reason_items(r)) or "<li>no risk-raising feature</li>"
    return card(r["path"], r["name"], thumbs.get(r["path"]),
                f"risk {pct(r['risk'])}{verdict(r['correct']) if 'correct' in r else ''}",
                f"<ul>{items}</ul>")


def _gallery(d: dict[str, Any], thumbs: dict[str, str | None]) -> str:
    blurbs = {"riskiest": "Highest predicted risk.",
              "safest": "Lowest predicted risk.",
              "surprises": "Misclassified although the model rated them safe: what it misses."}
    out = ["<p>Reasons are the features that raised each image's risk most (TreeSHAP, log-odds), "
           "in words: how the image differs from the model's training images, with the feature "
           "column after it.</p>"]
    for key, rows in d["gallery"].items():
        out.append(f"<h3>{key.capitalize()}</h3><p class=note>{blurbs[key]}</p>")
        out.append("<div class=cards>" + "".join(_card(r, thumbs) for r in rows) + "</div>"
                   if rows else "<p>None.</p>")
    if "surprises" not in d["gallery"]:
        out.append("<p class=note>Surprises need outcomes (correct=).</p>")
    return "".join(out)


WORSE = {"lower": "low", "higher": "high", "both": "either extreme", "none": "no direction"}


def _feature_rows(rows: list[dict[str, Any]]) -> str:
    return table(["Feature", "What it measures", "Unit", "Range", "Worse when"],
                 [[f"<code>{e(r['feature'])}</code>", e(r["doc"]), f"<span class=nw>{e(r['unit'])}</span>",
                   f"<span class=nw>{e(r['range'])}</span>", e(WORSE.get(r["worse"], r["worse"]))]
                  for r in rows], left=5)


def _features(d: dict[str, Any]) -> str:
    ordered = [r for f in d["top_features"] for r in d["features"] if r["feature"] == f]
    return ("<p>The top features of this report, from <code>featrisk.feature_docs()</code>.</p>"
            + _feature_rows(ordered)
            + f"<details><summary>All {len(d['features'])} columns</summary>"
            + _feature_rows(d["features"])
            + "</details>")


def render(d: dict[str, Any], figs: dict[str, str], thumbs: dict[str, str | None]) -> str:
    """The whole page as one string."""
    body = {
        "summary": _summary(d),
        "thresholds": _thresholds(d, figs),
        "importance": _importance(d, figs),
        "segments": _segments(d),
        "calibration": _calibration(d, figs),
        "gallery": _gallery(d, thumbs),
        "features": _features(d),
    }
    nav = "".join(f'<li><a href="#{k}">{e(t[3:])}</a></li>' for k, t in SECTIONS)
    sections = "".join(f'<section id="{k}"><h2>{e(t)}</h2>{body[k]}</section>' for k, t in SECTIONS)
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{e(d['title'])}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{e(d['title'])}</h1><p class=meta>featrisk {e(d['featrisk_version'])}, feature "
        f"schema {e(d['schema_version'])}, {e(d.get('profile', 'default'))} extraction profile, "
        f"created {e(d['created'])}. The numbers are also in "
        f"{e(d['json_name'])}.</p><nav><ol>{nav}</ol></nav>{sections}</main></body></html>\n"
    )
