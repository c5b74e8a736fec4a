"""Distances in a projected embedding space, for :mod:`featrisk.signals.embedding` (private).

Plain numpy on arrays: unit rows, cosine kNN distances, class means with a tied precision
and Mahalanobis distances. Nothing here checks inputs or holds state.
"""

from __future__ import annotations

import numpy as np


def project(x: np.ndarray, components: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Rows of ``x`` centred on ``mean`` and projected onto the PCA axes ``components``."""
    # x @ C.T - mean @ C.T: never materialises the centred (n, D) copy of x
    return x @ components.T - mean @ components.T


def unit_rows(z: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; an all-zero row stays zero (cosine distance 1 to all)."""
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    return z / np.where(norm > 0, norm, 1.0)


def knn_distance(sim: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine distance (1 - similarity, in [0, 2]) to the k most similar columns."""
    m = sim.shape[1]
    k = min(k, m)
    top = np.partition(sim, m - k, axis=1)[:, m - k:].astype(np.float64)
    return np.clip(1.0 - top, 0.0, 2.0).mean(axis=1)


def class_statistics(zc: np.ndarray, yc: np.ndarray,
                     ridge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes, class means and tied precision of the correct images' projections ``zc``.

    ``yc`` holds their predicted classes. The precision is the pseudo-inverse of the
    covariance around the class means, its diagonal raised by ``ridge`` times the mean
    variance (or by ``ridge`` when every variance is 0).
    """
    labels, inverse, counts = np.unique(yc, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    sums = np.add.reduceat(zc[order], np.r_[0, np.cumsum(counts)[:-1]], axis=0)
    means = sums / counts[:, None]
    resid = zc - means[inverse]
    cov = resid.T @ resid / len(zc)
    scale = np.trace(cov) / len(cov)
    cov[np.diag_indices_from(cov)] += ridge * (scale if scale > 0 else 1.0)
    return labels, means, np.linalg.pinv(cov, hermitian=True)


def mahalanobis(z: np.ndarray, y: np.ndarray, labels: np.ndarray, means: np.ndarray,
                prec: np.ndarray) -> np.ndarray:
    """Mahalanobis distance of each projection to its predicted class's mean, in [0, inf).

    A class not among ``labels`` (unseen, or never correct) takes the nearest class mean.
    """
    pos = np.minimum(np.searchsorted(labels, y), len(labels) - 1)
    known = labels[pos] == y
    d2 = np.empty(len(z))
    diff = z[known] - means[pos[known]]
    d2[known] = np.einsum("ij,jk,ik->i", diff, prec, diff)
    if not known.all():  # unseen or never-correct class: the nearest class mean
        zu = z[~known]
        zp = zu @ prec
        all_d2 = ((zp * zu).sum(axis=1)[:, None] - 2.0 * zp @ means.T
                  + np.einsum("ij,jk,ik->i", means, prec, means)[None, :])
        d2[~known] = all_d2.min(axis=1)
    return np.sqrt(np.maximum(d2, 0.0))


def knn_scores(q: np.ndarray, y: np.ndarray, reference: np.ndarray, reference_class: np.ndarray,
               reference_correct: np.ndarray, *, k: int,
               block_entries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kNN distance, class kNN distance and relative distance of unit query rows ``q``.

    ``y`` holds the queries' predicted classes; the reference rows are unit projections with
    their predicted classes and outcomes. Works through blocks of at most ``block_entries``
    query x reference similarities (at least one query row); see
    :meth:`featrisk.signals.EmbeddingScorer.transform` for the three columns.
    """
    right, wrong = reference[reference_correct], reference[~reference_correct]
    right_class = reference_class[reference_correct]
    classes, counts = np.unique(right_class, return_counts=True)
    members = {int(c): np.flatnonzero(right_class == c) for c in classes[counts >= k]}
    out = {c: np.zeros(len(q)) for c in ("knn", "cls", "rel")}
    step = max(1, block_entries // len(reference))
    for start in range(0, len(q), step):
        rows = slice(start, start + step)
        sim = q[rows] @ right.T
        near = knn_distance(sim, k)
        cls = near.copy()
        yb = y[rows]
        for c in set(np.unique(yb).tolist()) & members.keys():
            hit = np.flatnonzero(yb == c)
            cls[hit] = knn_distance(sim[np.ix_(hit, members[c])], k)
        out["knn"][rows], out["cls"][rows] = near, cls
        if len(wrong):
            out["rel"][rows] = near - knn_distance(q[rows] @ wrong.T, k)
    return out["knn"], out["cls"], out["rel"]
