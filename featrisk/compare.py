"""Every failure predictor a user can run, measured side by side on their own validation set.

:func:`compare` scores each validation image with every approach its inputs allow, always
out of fold (grouped cross-validation, so no image is scored by something fitted on it):

- ``featrisk``: the image-only risk model, from the pixels alone (:class:`RiskModel`);
- one-pass scores from logits or probabilities (:func:`featrisk.signals.logit_scores`; the
  p of MaxLogit-pNorm chosen on the training folds);
- Monte Carlo dropout scores (:func:`featrisk.signals.mc_scores`);
- distances in the classifier's embedding space (:class:`featrisk.signals.EmbeddingScorer`);
- the validation confusion matrix (:class:`featrisk.signals.ConfusionScorer`);
- ``stacked hybrid``: a logistic regression of the inputs that earn their place, fitted per
  training fold on scores that are themselves out of fold there; inputs are added one at a
  time while the inner folds' AUROC rises (forward selection), so what it keeps is chosen
  without the test fold.

Each is reported on all images and, when images are given, split by the shipped degradation
estimator's best guess (classifier-free): "looks clean" when no damage is its most likely
class, "looks damaged" otherwise. Each row has AUROC, AURC and
the share of errors caught when ``flag_rate`` of the images are flagged, each with a grouped
bootstrap interval; beside them the per-class error rates and the most confused class pairs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics, stack
from featrisk._logistic import _sigmoid, logit
from featrisk.approaches import IMAGE, STACK
from featrisk.degradation import default_estimator
from featrisk.model import (
    RiskModel,
    design_matrix,
    file_fill_values,
    fill_file_facts,
    fold_ids,
    outcomes_from,
)
from featrisk.report.compare_page import write_comparison
from featrisk.signals import ConfusionScorer, EmbeddingScorer, choose_pnorm, logit_scores, mc_scores

__all__ = ["IMAGE", "STACK", "Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` returns.

    ``table``: one row per (approach, subset) with ``n``, ``error_rate``, ``auroc``,
    ``aurc`` and ``caught`` (share of errors among the ``flag_rate`` highest scores), each
    with ``_low`` / ``_high`` bounds. ``scores``: the out-of-fold score of every approach
    per image (higher = more likely wrong). ``stack_minus_best``: AUROC of the stacked
    hybrid minus the best single approach, with a paired interval. ``stack_inputs``: how
    many of the ``cv`` training folds kept each input in the stack. ``classes`` and
    ``pairs``: per-class error rates and the most confused pairs (None without ``y_true``).
    ``looks_damaged``: per image, True where the degradation estimator's best guess is a
    damage (None without images). ``flag_rate``: the share flagged for ``caught``.
    """

    table: pd.DataFrame
    scores: pd.DataFrame
    stack_minus_best: dict[str, Any] | None
    stack_inputs: dict[str, int]
    recommendation: str
    classes: pd.DataFrame | None
    pairs: pd.DataFrame | None
    looks_damaged: np.ndarray | None = None
    flag_rate: float = 0.10

    def to_html(self, path: str | os.PathLike[str], *, paths: Sequence[str] | None = None,
                y_true: Any = None, y_pred: Any = None,
                class_names: Sequence[str] | Mapping[Any, str] | None = None,
                examples: int = 4, damaged: Any = None) -> Path:
        """Write this comparison as one self-contained HTML page, replacing it atomically.

        The page (:func:`featrisk.report.compare_page.render_comparison`, which documents the
        arguments) shows the recommendation, the table, the stack, the per-class error rates
        and the most confused class pairs. ``paths`` with ``y_true`` and ``y_pred`` (as given
        to :func:`compare`) add example images of each pair, so look-alike classes show; the
        comparison does not keep them, so pass them here. ``paths`` add the damaged-looking
        images scored highest (``damaged`` overrides the split, default ``looks_damaged``).

        Returns
        -------
        Path
            The file written.
        """
        return write_comparison(self, path, paths=paths, y_true=y_true, y_pred=y_pred,
                                class_names=class_names, examples=examples,
                                damaged=damaged)


class _Signals:
    """The classifier-side inputs, each scorer fitted on given rows and applied to others."""

    def __init__(self, *, logits: Any, probs: Any, embeddings: Any, mc_probs: Any,
                 y_true: np.ndarray | None, y_pred: np.ndarray | None, n: int) -> None:
        self.logits = None if logits is None else np.asarray(logits, np.float64)
        self.probs = None if probs is None else np.asarray(probs, np.float64)
        self.embeddings = None if embeddings is None else np.asarray(embeddings)
        self.y_true, self.y_pred = y_true, y_pred
        self.mc = (None if mc_probs is None
                   else mc_probs.reset_index(drop=True) if isinstance(mc_probs, pd.DataFrame)
                   else mc_scores(mc_probs))
        for name, a in (("logits", self.logits), ("probs", self.probs),
                        ("embeddings", self.embeddings)):
            if a is not None and len(a) != n:
                raise ValueError(f"{name} has {len(a)} rows but there are {n} images")
        if self.mc is not None and len(self.mc) != n:
            raise ValueError(f"mc_probs holds {len(self.mc)} images but there are {n}")
        if self.embeddings is not None and self.y_pred is None:
            raise ValueError("embeddings need the predicted classes: pass y_pred, logits or probs")

    @property
    def any(self) -> bool:
        return any(a is not None for a in (self.logits, self.probs, self.embeddings, self.mc,
                                           self.y_true))

    def scores(self, train: np.ndarray, test: np.ndarray, correct: np.ndarray) -> pd.DataFrame:
        """Every signal column for rows ``test``, fitted scorers fitted on rows ``train``."""
        parts = []
        if self.logits is not None or self.probs is not None:
            p = None
            if self.logits is not None and 0 < correct[train].sum() < train.sum():
                p = choose_pnorm(self.logits[train], correct[train])
            parts.append(logit_scores(None if self.logits is None else self.logits[test],
                                      probs=None if self.probs is None else self.probs[test],
                                      pnorm_p=p))
        if self.mc is not None:
            parts.append(self.mc[test].reset_index(drop=True))
        if self.embeddings is not None:
            scorer = EmbeddingScorer().fit(self.embeddings[train], self.y_pred[train],
                                           correct[train])
            parts.append(scorer.transform(self.embeddings[test], self.y_pred[test]))
        if self.y_true is not None and self.y_pred is not None:
            scorer = ConfusionScorer().fit(self.y_true[train], self.y_pred[train])
            order = self.logits if self.logits is not None else self.probs
            parts.append(scorer.transform(self.y_pred[test],
                                          probs=None if order is None else order[test]))
        return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=range(int(test.sum())))


def _stack(x_train: np.ndarray, error_train: np.ndarray, x_test: np.ndarray,
           inner: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Forward-selected logistic stack (:func:`featrisk.stack.fit` over the inner folds):
    risk of the test rows and the columns it kept."""
    chosen, coef, b = stack.fit(x_train, error_train, inner)
    return _sigmoid(x_test[:, chosen] @ coef + b), chosen


def _row(approach: str, subset: str, e: np.ndarray, r: np.ndarray, groups: np.ndarray,
         flag_rate: float, n_boot: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"approach": approach, "subset": subset, "n": int(len(e)),
                           "error_rate": float(e.mean())}
    rank = pd.Series(r).rank(pct=True).to_numpy()
    for name, fn in (("auroc", metrics.auroc), ("aurc", metrics.aurc),
                     ("caught", functools.partial(metrics.errors_caught, rate=flag_rate))):
        if 0 < e.sum() < len(e):
            v, lo, hi = metrics.bootstrap_ci(fn, e, rank, n_boot=n_boot, seed=seed, groups=groups)
        else:
            v = lo = hi = np.nan
        out.update({name: v, f"{name}_low": lo, f"{name}_high": hi})
    return out


def _sentence(table: pd.DataFrame, diff: dict[str, Any] | None, best: str) -> str:
    every = table[table["subset"] == "all"].set_index("approach")["auroc"]
    first = (f"Best single approach: {best} (AUROC {every[best]:.3f})")
    if diff is None:
        return first + "."
    lo, hi = diff["low"], diff["high"]
    if lo > 0:
        return (f"Use the stacked hybrid: AUROC {every[STACK]:.3f}, {diff['value']:+.3f} "
                f"[{lo:+.3f}, {hi:+.3f}] over {best}, the best single approach.")
    return (f"Use {best} (AUROC {every[best]:.3f}): the stacked hybrid does not beat it beyond "
            f"noise ({diff['value']:+.3f} [{lo:+.3f}, {hi:+.3f}]).")


def compare(X: Any = None, correct: Any = None, *, y_true: Any = None, y_pred: Any = None,
            logits: Any = None, probs: Any = None, embeddings: Any = None, mc_probs: Any = None,
            groups: Any = None, subsets: Mapping[str, Any] | None = None, cv: int = 5,
            flag_rate: float = 0.10, n_boot: int = 1000, seed: int = 0,
            profile: str = "default", n_jobs: int = 1) -> Comparison:
    """Measure every available failure predictor on one validation set, out of fold.

    Parameters
    ----------
    X : images or the feature table of :func:`featrisk.extract`, optional
        The validation images; without them the image-only rows are left out.
    correct : array-like of bool, optional
        True where the classifier was right; or give ``y_true`` and ``y_pred``.
    y_true, y_pred : array-like of int, optional
        True and predicted classes (``y_pred`` defaults to the argmax of ``logits`` or
        ``probs``); ``y_true`` adds the confusion-matrix scores and the class tables.
    logits, probs : array-like (n_images, n_classes), optional
        The classifier's outputs (see :func:`featrisk.signals.logit_scores`).
    embeddings : array-like (n_images, dim), optional
        Penultimate-layer embeddings (e.g. from :func:`featrisk.torch.run`).
    mc_probs : array-like (n_passes, n_images, n_classes) or DataFrame, optional
        Monte Carlo dropout probabilities, or the table :func:`featrisk.signals.mc_scores`
        made of them (to score many images' passes in chunks).
    groups : array-like, optional
        Group per image (e.g. its source photo); folds and bootstrap resamples keep groups
        whole.
    subsets : mapping of str to array-like of bool, optional
        More splits to report beside "all" and the estimator's, e.g.
        ``{"clean photos": metadata["synthetic"] == False}``.
    cv, flag_rate, n_boot, seed : see above; ``cv`` folds, ``n_boot`` resamples per interval.
    profile, n_jobs : extraction profile and workers for the image features.

    Returns
    -------
    Comparison
    """
    user_subsets = dict(subsets or {})
    reference = probs if probs is not None else logits
    if y_pred is None and reference is not None:
        y_pred = np.argmax(np.asarray(reference), axis=1)
    if correct is None and y_true is not None and y_pred is not None:
        error = outcomes_from(y_true=y_true, y_pred=y_pred)
    else:
        error = outcomes_from(correct)
    n = len(error)
    table = None
    if X is not None:
        table = design_matrix(X, None, profile=profile, n_jobs=n_jobs)
        if len(table) != n:
            raise ValueError(f"X holds {len(table)} images but correct has {n} values")
        if table["error"].notna().any():
            bad = table.loc[table["error"].notna(), "error"].iloc[0]
            raise ValueError(f"{int(table['error'].notna().sum())} images could not be read "
                             f"(first: {bad}); leave them out of the comparison")
        # once for all folds: each RiskModel takes the columns as given instead of recomputing
        # (and a table that already holds them, e.g. out of fold, is used as it is)
        estimator = default_estimator(profile)
        have = [c for c in estimator.columns if c in table.columns]
        if not have:
            est = estimator.transform(fill_file_facts(table, file_fill_values(table)))
            table = pd.concat([table, est.set_axis(table.index)], axis=1)
        elif len(have) < len(estimator.columns):
            missing = [c for c in estimator.columns if c not in table.columns]
            raise ValueError(
                f"X holds {len(have)} of the degradation estimator's {len(estimator.columns)} "
                f"columns but not {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}; "
                "give all of them (e.g. 0 for a damage type your estimator never saw) or none "
                "(compare then adds the shipped estimator's)")
    sig = _Signals(logits=logits, probs=probs, embeddings=embeddings, mc_probs=mc_probs,
                   y_true=None if y_true is None else np.asarray(y_true),
                   y_pred=None if y_pred is None else np.asarray(y_pred), n=n)
    if table is None and not sig.any:
        raise ValueError("compare needs something to score: images (X) or the classifier's "
                         "outputs (logits, probs, embeddings, mc_probs, y_true with y_pred)")
    grp = np.arange(n) if groups is None else np.asarray(groups)
    fold = fold_ids(n, cv=cv, groups=grp, seed=seed)
    ok = error == 0
    columns: dict[str, np.ndarray] = {}
    stacked = np.full(n, np.nan)
    kept: dict[str, int] = {}
    for k in range(cv):
        test, train = fold == k, fold != k
        parts_train, parts_test, names = [], [], []
        inner = fold_ids(int(train.sum()), cv=cv, groups=grp[train], seed=seed)
        if table is not None:
            model = RiskModel(profile=profile, cv=cv, random_state=seed).fit(
                table[train], ok[train], groups=grp[train])
            columns.setdefault(IMAGE, np.full(n, np.nan))[test] = model.predict_risk(table[test])
            parts_train.append(logit(model.oof_risk_)[:, None])
            parts_test.append(logit(columns[IMAGE][test])[:, None])
            names.append(IMAGE)
        if sig.any:
            outer = sig.scores(train, test, ok)
            for c in outer:
                columns.setdefault(c, np.full(n, np.nan))[test] = outer[c].to_numpy()
            rows = np.flatnonzero(train)
            oof = pd.DataFrame(np.nan, index=range(len(rows)), columns=outer.columns)
            for j in range(cv):
                t = np.zeros(n, bool)
                t[rows[inner == j]] = True
                oof.loc[inner == j] = sig.scores(train & ~t, t, ok).to_numpy()
            parts_train.append(oof.to_numpy())
            parts_test.append(outer.to_numpy())
            names += list(outer.columns)
        if sum(p.shape[1] for p in parts_train) > 1:  # something to combine
            stacked[test], chosen = _stack(np.hstack(parts_train), error[train],
                                         np.hstack(parts_test), inner)
            for j in chosen:
                kept[names[j]] = kept.get(names[j], 0) + 1
    scores = pd.DataFrame(columns)
    if np.isfinite(stacked).all():
        scores[STACK] = stacked
    subsets = {"all": np.ones(n, bool)}
    looks_damaged = None
    if table is not None:
        p = table[[c for c in table.columns if c.startswith("degradation_p_")]]
        clean = (p.idxmax(axis=1) == "degradation_p_none").to_numpy()
        subsets.update({"looks damaged": ~clean, "looks clean": clean})
        looks_damaged = ~clean
    for name, mask in user_subsets.items():
        m = np.asarray(mask)
        if m.shape != (n,) or m.dtype != bool:
            raise ValueError(f"subsets[{name!r}] must be {n} booleans, one per image; "
                             f"received shape {m.shape} and dtype {m.dtype}")
        subsets[str(name)] = m
    rows_out = [_row(a, s, error[m], scores[a].to_numpy()[m], grp[m], flag_rate, n_boot, seed)
                for a in scores for s, m in subsets.items() if m.any()]
    result = pd.DataFrame(rows_out)
    singles = result[(result["subset"] == "all") & (result["approach"] != STACK)]
    best = str(singles.loc[singles["auroc"].idxmax(), "approach"])
    diff = None
    if STACK in scores:
        value, low, high = metrics.bootstrap_ci(
            lambda e, a, b: metrics.auroc(e, a) - metrics.auroc(e, b), error,
            scores[STACK].to_numpy(), scores[best].to_numpy(), n_boot=n_boot, seed=seed,
            groups=grp)
        diff = {"best_single": best, "value": value, "low": low, "high": high}
    classes = pairs = None
    if y_true is not None and y_pred is not None:
        yt = np.asarray(y_true)
        classes = (pd.DataFrame({"true_class": yt, "error": error}).groupby("true_class")
                   .agg(n=("error", "size"), error_rate=("error", "mean"))
                   .sort_values("error_rate", ascending=False).reset_index())
        pairs = ConfusionScorer().fit(yt, np.asarray(y_pred)).top_confused_pairs(10)
    return Comparison(table=result, scores=scores, stack_minus_best=diff,
                      stack_inputs=dict(sorted(kept.items(), key=lambda kv: -kv[1])),
                      recommendation=_sentence(result, diff, best), classes=classes, pairs=pairs,
                      looks_damaged=looks_damaged, flag_rate=flag_rate)
