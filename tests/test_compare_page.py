"""The HTML page of featrisk.compare: Comparison.to_html and ``featrisk compare --html``.

A small 4-class problem on tiny real image files (noise, blurred where the classifier is
wrong), so compare runs in a few seconds with every part of the page available.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from featrisk.compare import IMAGE, STACK, compare
from featrisk.report.compare_page import TOP_DAMAGED, render_comparison

N, K = 60, 4
NAMES = ["<script>cat</script>", "dog & co", "fox", "owl"]


def _dataset(folder: Path, seed: int = 0) -> dict:
    """Image files, classes and logits; a wrong image is blurred and its logits less sure."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, K, N)
    wrong = rng.random(N) < 0.35
    y_pred = np.where(wrong, (y_true + rng.integers(1, K, N)) % K, y_true)
    logits = rng.normal(0, 1, (N, K))
    logits[np.arange(N), y_pred] += np.where(wrong, 0.5, 2.0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(N):
        img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        if wrong[i]:
            img = cv2.GaussianBlur(img, (9, 9), 3)
        path = folder / (f"img{i:02d}.png" if i else "a&b.png")  # one name to escape
        assert cv2.imwrite(str(path), img)
        paths.append(str(path))
    return {"paths": paths, "y_true": y_true, "y_pred": y_pred, "logits": logits}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    data = _dataset(tmp_path_factory.mktemp("cmp") / "images")
    res = compare(data["paths"], y_true=data["y_true"], y_pred=data["y_pred"],
                  logits=data["logits"], cv=3, n_boot=20)
    return res, data


def _cards(section: str) -> list[str]:
    """File names of the gallery cards in a piece of the page, in order."""
    return re.findall(r'<div class=name title="[^"]*">([^<]+)</div>', section)


def _section(page: str, key: str) -> str:
    start = page.index(f'<section id="{key}">')
    return page[start:page.index("</section>", start)]


def test_the_page_holds_the_recommendation_the_table_and_the_stack(compared, tmp_path) -> None:
    res, _ = compared
    out = res.to_html(tmp_path / "sub" / "cmp.html")
    assert out == tmp_path / "sub" / "cmp.html" and out.is_file()
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Content-Security-Policy" in page
    assert escape(res.recommendation) in page
    table = _section(page, "table")
    for r in res.table.itertuples():
        cell = (f"{r.auroc:.3f} <span class=note>[{r.auroc_low:.3f}, {r.auroc_high:.3f}]</span>"
                f"</td><td>{r.aurc:.3f} <span class=note>[{r.aurc_low:.3f}, {r.aurc_high:.3f}]")
        assert cell in table, (r.approach, r.subset)
    assert table.count("<tr>") == len(res.table) + res.table["subset"].nunique()  # + headers
    stack = _section(page, "stack")
    d = res.stack_minus_best
    assert f"{d['value']:+.3f}" in stack and escape(d["best_single"]) in stack
    assert all(escape(name) in stack for name in res.stack_inputs)
    classes = _section(page, "classes")
    assert classes.count("<tr>") == min(len(res.classes), 15) + 1
    assert STACK in table and IMAGE in table


def test_pair_examples_are_thumbnails_of_the_pair_in_either_direction(compared) -> None:
    res, data = compared
    page = render_comparison(res, paths=data["paths"], y_true=data["y_true"],
                             y_pred=data["y_pred"], examples=2)
    pairs = _section(page, "pairs")
    blocks = pairs.split("<h3>")[1:]
    assert len(blocks) == len(res.pairs) > 0
    index = {Path(p).name.replace("&", "&amp;"): i for i, p in enumerate(data["paths"])}
    for block, r in zip(blocks, res.pairs.itertuples(), strict=True):
        names = _cards(block)
        assert 0 < len(names) <= 2 and block.count('src="data:image/jpeg;base64,') == len(names)
        for name in names:
            i = index[name]
            assert {int(data["y_true"][i]), int(data["y_pred"][i])} == {r.class_a, r.class_b}
            assert f"true {data['y_true'][i]}, predicted <span class=bad>{data['y_pred'][i]}" in block
    none = render_comparison(res, paths=data["paths"], y_true=data["y_true"],
                             y_pred=data["y_pred"], examples=0, damaged=np.zeros(N, bool))
    assert "data:image" not in none  # nothing looks damaged, no examples: no thumbnail at all


def test_the_damaged_gallery_shows_the_top_image_only_scores_among_damaged(compared) -> None:
    res, data = compared
    damaged = np.arange(N) % 2 == 1
    page = render_comparison(res, paths=data["paths"], y_true=data["y_true"],
                             y_pred=data["y_pred"], examples=0, damaged=damaged)
    gallery = _section(page, "damaged")
    score = res.scores[IMAGE].where(damaged)
    expected = score.sort_values(ascending=False, kind="stable").index[:TOP_DAMAGED]
    assert _cards(gallery) == [Path(data["paths"][i]).name for i in expected]
    wrong = int((data["y_true"] != data["y_pred"])[expected].sum())
    assert gallery.count("class=bad>wrong") == wrong
    assert gallery.count("class=good>right") == len(expected) - wrong


def test_missing_inputs_leave_their_sections_out_with_one_line(compared, tmp_path) -> None:
    res, data = compared
    page = res.to_html(tmp_path / "no-paths.html").read_text(encoding="utf-8")
    assert "data:image" not in page and 'id="damaged"' not in page
    assert "Pass paths, y_true, y_pred to to_html" in _section(page, "pairs")
    assert "needs the images&#x27; paths" in page
    default = render_comparison(res, paths=data["paths"], examples=0)
    assert res.looks_damaged is not None and res.flag_rate == 0.10
    expected = res.scores[IMAGE].where(res.looks_damaged).sort_values(
        ascending=False, kind="stable").dropna().index[:TOP_DAMAGED]
    names = [Path(data["paths"][i]).name.replace("&", "&amp;") for i in expected]
    assert _cards(_section(default, "damaged")) == names
    outs = compare(correct=data["y_true"] == data["y_pred"], logits=data["logits"], cv=3,
                   n_boot=20)
    bare = outs.to_html(tmp_path / "bare.html", paths=data["paths"]).read_text(encoding="utf-8")
    for key in ("classes", "pairs", "damaged"):
        assert f'id="{key}"' not in bare and f'href="#{key}"' not in bare
    assert "need the true classes: give compare y_true" in bare
    assert "needs the images: give compare X" in bare
    assert "data:image" not in bare and '<section id="table">' in bare


def test_class_names_and_file_names_are_escaped(compared) -> None:
    res, data = compared
    page = render_comparison(res, paths=data["paths"], y_true=data["y_true"],
                             y_pred=data["y_pred"], class_names=NAMES,
                             damaged=np.ones(N, bool))
    assert "<script" not in page and "&lt;script&gt;cat&lt;/script&gt;" in page
    assert "dog &amp; co" in page and "dog & co" not in page
    assert ">a&amp;b.png<" in page and "a&b.png" not in page


def test_bad_arguments_name_the_input_and_write_nothing(compared, tmp_path) -> None:
    res, data = compared
    with pytest.raises(ValueError, match=r"paths must hold one value per compared image \(60"):
        res.to_html(tmp_path / "x.html", paths=data["paths"][:5])
    with pytest.raises(ValueError, match="y_pred must hold one value per compared image"):
        res.to_html(tmp_path / "x.html", y_true=data["y_true"], y_pred=data["y_pred"][1:])
    with pytest.raises(ValueError, match=r"examples must be an integer >= 0.*received -1"):
        res.to_html(tmp_path / "x.html", examples=-1)
    assert not (tmp_path / "x.html").exists()


def test_cli_html_flag_writes_the_page_with_thumbnails(tmp_path, capsys) -> None:
    from featrisk.cli import main

    data = _dataset(tmp_path / "images", seed=1)
    np.save(tmp_path / "logits.npy", data["logits"])
    pd.DataFrame({"path": [Path(p).relative_to(tmp_path).as_posix() for p in data["paths"]],
                  "y_true": data["y_true"], "y_pred": data["y_pred"]}).to_csv(
        tmp_path / "labels.csv", index=False)
    args = ["compare", "--labels", str(tmp_path / "labels.csv"), "--logits",
            str(tmp_path / "logits.npy"), "--cv", "3", "--n-boot", "10", "--quiet",
            "--out", str(tmp_path / "c.csv"), "--html", str(tmp_path / "c.html")]
    assert main(args) == 0
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert f"-> {tmp_path / 'c.csv'} and {tmp_path / 'c.html'}" in printed
    assert "data:image/jpeg" in _section(page, "pairs")  # relative paths resolved
    assert pd.read_csv(tmp_path / "c.csv")["approach"].nunique() > 1
    (tmp_path / "c.csv").unlink()
    assert main(args) == 2  # the page exists: refused before any work
    assert "c.html exists; pass --overwrite" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()
