"""Generalisation to degradations nobody listed: leave one degradation family out of training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk.bench.baselines import oracle_risk, with_atypicality
from featrisk.degradation import DegradationEstimator, cross_fit_transform
from featrisk.model import RiskModel, fold_ids
from featrisk.profiles import profile_of


def heldout_families(features: pd.DataFrame, outcomes: pd.DataFrame, *, folds: int = 2,
                     seed: int = 0, model_params: dict[str, Any] | None = None,
                     families: list[str] | None = None, n_boot: int = 1000,
                     log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Generalisation to degradations nobody listed: leave one family out of all training.

    The sources are split into ``folds`` groups (grouped by source). For each family F and
    each group: the degradation estimator and the risk model are fitted on the other groups'
    images of every other family (and clean images), and score this group's images of F
    together with its clean images. Every source is thus scored once per family, so a
    family's AUROC (pooled over the groups, next to max-softmax on the same images) rests on
    all sources; ``featrisk_ci`` is its 95% bootstrap interval, resampling sources.

    ``oracle`` is a ceiling, not a competitor: each scored image gets the error rate of its
    exact (degradation, severity) cell among the other groups' images, the held-out family's
    included. It is what knowing the damage would give on this set; where even it stays
    low, recognising the damage is not enough to rank the set's failures.
    """
    ok = features["error"].isna().to_numpy()
    features, outcomes = features[ok].reset_index(drop=True), outcomes[ok].reset_index(drop=True)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    sources = outcomes["source_id"].to_numpy()
    fold = fold_ids(len(outcomes), cv=folds, groups=sources, seed=seed)
    deg, sev = outcomes["degradation"].to_numpy(str), outcomes["severity"].to_numpy(float)
    params = {**(model_params or {}), "degradation": None, "profile": profile_of(features)}
    rows = []
    for fam in families or sorted(set(deg) - {"none"}):
        scored = (deg == fam) | (deg == "none")
        risk, atyp, blend, oracle = (np.full(len(outcomes), np.nan) for _ in range(4))
        for k in range(folds):
            train = (fold != k) & (deg != fam)
            test = (fold == k) & scored
            groups = sources[train]
            ftr, fte = features[train], features[test]
            deg_train = cross_fit_transform(ftr, deg[train], sev[train], groups=groups, seed=seed)
            deg_test = DegradationEstimator().fit(ftr, deg[train], sev[train]).transform(fte)
            model = RiskModel(**params).fit(ftr, error[train] == 0, groups=groups,
                                            extra=deg_train.reset_index(drop=True))
            risk[test] = model.predict_risk(fte, extra=deg_test.reset_index(drop=True))
            atyp[test], blend[test] = with_atypicality(model, risk[test], fte)
            seen = fold != k  # the oracle knows the family: its cells come from every family
            oracle[test] = oracle_risk(outcomes[seen], outcomes[test], error[seen])
        e, r = error[scored], risk[scored]
        _, low, high = metrics.bootstrap_ci(metrics.auroc, e, r, n_boot=n_boot, seed=seed,
                                            groups=sources[scored])
        row = {"family": fam, "n": int(scored.sum()), "error_rate": float(e.mean()),
               "featrisk": metrics.auroc(e, r), "featrisk_ci": [low, high],
               "atypicality": metrics.auroc(e, atyp[scored]),
               "featrisk_plus_atypicality": metrics.auroc(e, blend[scored]),
               "oracle": metrics.auroc(e, oracle[scored]),
               "max_softmax": metrics.auroc(e, 1 - outcomes.loc[scored, "max_prob"].to_numpy(float))}
        log(f"  held-out family {fam}: AUROC {row['featrisk']:.3f} [{low:.3f}, {high:.3f}]")
        rows.append(row)
    return rows
