"""LightGBM under a RiskModel: parameters, cross-fitting with early stopping, the final booster.

For fold k of ``cv`` (grouped when groups are given, :func:`featrisk.folds.fold_ids`), a
booster trains on the other folds, stops early (binary log-loss, or cross-entropy on soft
targets) on fold k+1 and predicts fold k: out-of-fold raw scores that no booster saw, and
the number of rounds that generalises. The final booster trains on all rows for the mean
best round count x 1.1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import lightgbm as lgb
import numpy as np

from featrisk.folds import fold_ids

__all__ = ["MONOTONE", "BoosterSettings"]

#: Monotone constraints for known extra columns: +1 risk rises with the value, -1 falls.
MONOTONE = {
    "softmax_max_prob": -1,
    "softmax_margin": -1,
    "softmax_entropy": 1,
    "softmax_gini": 1,
}

#: Rounds of the final booster per mean best round count of the cross-fitted ones: it trains
#: on all rows, a fifth more than each fold's booster saw.
FINAL_ROUNDS = 1.1


@dataclass(frozen=True)
class BoosterSettings:
    """The boosting parameters of a :class:`featrisk.RiskModel` (see its docstring)."""

    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    cv: int
    early_stopping_rounds: int
    random_state: int
    n_jobs: int
    params: dict[str, Any] | None

    @classmethod
    def of(cls, model: Any) -> BoosterSettings:
        """The settings of a :class:`featrisk.RiskModel`, read from its parameters."""
        return cls(**{f.name: getattr(model, f.name) for f in fields(cls)})

    def lgb_params(self, feature_names: list[str]) -> dict[str, Any]:
        """LightGBM parameters for a booster on ``feature_names``: small, strongly regularised
        trees, deterministic, monotone in the known softmax columns; ``params`` override."""
        params = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": 0.5,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 10.0,
            "num_threads": self.n_jobs,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }
        mono = [MONOTONE.get(f, 0) for f in feature_names]
        if any(mono):
            params["monotone_constraints"] = mono
        params.update(self.params or {})
        return params

    def cross_fit(self, x: np.ndarray, y: np.ndarray, grp: np.ndarray | None,
                  names: list[str], params: dict[str, Any], *,
                  fold_targets: np.ndarray | None = None,
                  cv: int | None = None) -> tuple[np.ndarray, list[int]]:
        """Out-of-fold raw scores and best round counts over ``cv`` folds (default
        ``self.cv``); fold k's boosters train (and stop early) on ``fold_targets[k]`` when
        given, else on ``y``."""
        cv = cv or self.cv
        folds = fold_ids(len(y), cv=cv, groups=grp, seed=self.random_state)
        oof = np.zeros(len(y))
        rounds: list[int] = []
        for k in range(cv):
            test, valid = folds == k, folds == (k + 1) % cv
            train = ~(test | valid)
            t = y if fold_targets is None else fold_targets[k]
            dtrain = lgb.Dataset(x[train], t[train], feature_name=names)
            dvalid = lgb.Dataset(x[valid], t[valid], reference=dtrain)
            booster = lgb.train(
                params, dtrain, num_boost_round=self.n_estimators, valid_sets=[dvalid],
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
            best = booster.best_iteration or booster.current_iteration()
            rounds.append(best)
            oof[test] = booster.predict(x[test], raw_score=True, num_iteration=best)
        return oof, rounds

    @staticmethod
    def final_rounds(rounds: list[int]) -> int:
        """Rounds of the booster on all rows: the mean best round count x 1.1, at least 1."""
        return max(1, int(round(np.mean(rounds) * FINAL_ROUNDS)))

    @staticmethod
    def train(x: np.ndarray, target: np.ndarray, names: list[str], params: dict[str, Any],
              rounds: int) -> lgb.Booster:
        """The booster on all rows, for ``rounds`` rounds."""
        data = lgb.Dataset(x, target, feature_name=names, free_raw_data=True)
        return lgb.train(params, data, num_boost_round=rounds)
