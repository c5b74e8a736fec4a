"""Grouped, seeded fold assignment shared by cross-fitting, the estimator and the benchmarks."""

from __future__ import annotations

import numpy as np

__all__ = ["fold_ids"]


def fold_ids(n: int, *, cv: int, groups: np.ndarray | None, seed: int) -> np.ndarray:
    """Assign each row a fold in 0..cv-1; whole groups go to one fold (shuffled, seeded)."""
    rng = np.random.default_rng(seed)
    if groups is None:
        return rng.permutation(np.arange(n) % cv)
    uniq, inverse = np.unique(np.asarray(groups), return_inverse=True)
    if len(uniq) < cv:
        raise ValueError(f"groups has {len(uniq)} distinct values; need at least cv={cv}")
    group_fold = rng.permutation(np.arange(len(uniq)) % cv)
    return group_fold[inverse]
