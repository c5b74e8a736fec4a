"""Atypicality: how far an image's statistics lie from those of typical, correctly classified images.

The risk model learns which kinds of damage hurt from the degradations its training data
holds; the real world brings others. Atypicality needs no outcome and no degradation label:
it is a robust Mahalanobis distance of an image's feature vector from a reference set (in
:meth:`featrisk.RiskModel.fit`, the validation images the classifier got right and, when the
model reads the degradation estimator, that it takes for clean: P(none) >= 0.5),
reported as a percentile of the reference images' own distances, cross-fitted so that the
reference does not judge itself. 0.5 is a typical image; 0.99 is more unusual than 99% of
the reference images.

Method
------
Each feature is centred on its reference median and scaled by its interquartile range / 1.349
(the standard deviation of a normal variable; the standard deviation where the IQR is zero),
and clipped to +-10, so one extreme feature cannot dominate. A feature that never varies in
the reference is scaled by its spread over a wider set when one is given (in
:meth:`featrisk.RiskModel.fit`, all training images, degraded and misclassified ones
included), and left out of the distance when it never varies there either: a validation set
of 224 x 224 crops saved at one JPEG quality says nothing about how far a 500 x 375 photo at
another quality lies from typical, and counting every such difference as extreme made every
photo of another size "more unusual than all reference images". The
covariance of these scores is shrunk 20% towards its diagonal (plus 1e-3 on the diagonal),
which keeps it invertible with fewer images than features. The raw score is
``log1p(d2 / p)``, ``d2`` the squared Mahalanobis distance and ``p`` the number of features.

Measured by ``featrisk bench run`` (leave-one-degradation-family-out, every source scored
once, BENCHMARKS.md): averaged with the risk percentile, it ranks failures better than the
risk model alone on some families the model never saw (occlusion, motion blur) and worse on
others (vignette), a little worse on average (mean AUROC 0.665 against 0.671 on the ImageNet
photos, 0.682 against 0.687 on CIFAR-10); on known families the risk model is always better.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Atypicality"]

#: Clip of the robust per-feature scores.
CLIP = 10.0
#: Share of the covariance shrunk towards its diagonal.
SHRINK = 0.2
#: Ridge added to the covariance diagonal.
RIDGE = 1e-3
#: Points of the reference score distribution kept for percentiles.
N_QUANTILES = 201
#: Fewest reference images to fit on.
MIN_IMAGES = 20


#: Spread (in the column's unit) at or below which a column counts as constant.
CONSTANT = 1e-12


def robust_spread(x: np.ndarray) -> np.ndarray:
    """Robust scale per column of a finite (n, p) array: IQR / 1.349, else the standard
    deviation where the IQR is zero (0 where the column is constant)."""
    q75, q25 = np.percentile(x, [75, 25], axis=0)
    scale = (q75 - q25) / 1.349
    return np.where(scale > CONSTANT, scale, x.std(axis=0))


class Atypicality:
    """Robust Mahalanobis distance from a reference set of feature vectors, as a percentile.

    Parameters
    ----------
    folds : int, default 5
        Folds of the cross-fitted reference distribution (each reference image is scored by
        a fit on the other folds).
    random_state : int, default 0
        Seed of the fold assignment.
    """

    def __init__(self, *, folds: int = 5, random_state: int = 0) -> None:
        self.folds = folds
        self.random_state = random_state

    @staticmethod
    def _fit_params(x: np.ndarray, spread: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Median, scale and precision of ``x``; a column constant in ``x`` (a fold of the
        reference may hold one) takes its scale from ``spread`` (see :meth:`fit`)."""
        median = np.median(x, axis=0)
        own = robust_spread(x)
        scale = np.maximum(np.where(own > CONSTANT, own, spread), 1e-6 * (1.0 + np.abs(median)))
        z = np.clip((x - median) / scale, -CLIP, CLIP)
        cov = np.atleast_2d(np.cov(z, rowvar=False))
        cov = (1 - SHRINK) * cov + SHRINK * np.diag(np.diag(cov)) + RIDGE * np.eye(len(cov))
        return median, scale, np.linalg.inv(cov)

    @staticmethod
    def _raw(params: tuple[np.ndarray, np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
        median, scale, precision = params
        z = np.clip((x - median) / scale, -CLIP, CLIP)
        d2 = np.einsum("ij,jk,ik->i", z, precision, z)
        return np.log1p(np.maximum(d2, 0.0) / z.shape[1])

    def fit(self, x: np.ndarray, columns: list[str], *,
            wider: np.ndarray | None = None) -> Atypicality:
        """Fit on an (n, p) array of finite feature values of typical images.

        Parameters
        ----------
        x : ndarray, shape (n, p)
            Feature values of the reference (typical) images.
        columns : list of str
            The p column names.
        wider : ndarray, shape (m, p), optional
            Feature values of a wider set the reference was drawn from (for example all
            training images). A column constant in ``x`` is scaled by its spread here, and
            left out (see :attr:`columns_`) when it is constant here too. Without it, every
            column constant in ``x`` is left out.

        Raises
        ------
        ValueError
            With fewer than :data:`MIN_IMAGES` rows, non-finite values, a column count
            that differs from ``columns``, or no column that varies.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(columns):
            raise ValueError(f"x must be (n, {len(columns)}), got shape {x.shape}")
        if len(x) < MIN_IMAGES:
            raise ValueError(f"need at least {MIN_IMAGES} reference images, got {len(x)}")
        if not np.isfinite(x).all():
            raise ValueError("reference features must be finite (drop unreadable images)")
        spread = robust_spread(x)
        if wider is not None:
            wider = np.asarray(wider, dtype=np.float64)
            if wider.ndim != 2 or wider.shape[1] != len(columns):
                raise ValueError(f"wider must be (m, {len(columns)}), got shape {wider.shape}")
            wide = robust_spread(wider[np.isfinite(wider).all(axis=1)])
            spread = np.where(spread > CONSTANT, spread, wide)
        keep = spread > CONSTANT
        if not keep.any():
            raise ValueError("no feature varies among the reference images")
        x, spread = x[:, keep], spread[keep]
        self.columns_ = [c for c, k in zip(columns, keep, strict=True) if k]
        self.median_, self.scale_, self.precision_ = self._fit_params(x, spread)
        fold = np.random.default_rng(self.random_state).permutation(len(x)) % self.folds
        held = np.empty(len(x))
        for k in range(self.folds):
            held[fold == k] = self._raw(self._fit_params(x[fold != k], spread), x[fold == k])
        self.reference_quantiles_ = np.quantile(held, np.linspace(0, 1, N_QUANTILES))
        self.n_reference_ = int(len(x))
        return self

    def score(self, x: np.ndarray) -> np.ndarray:
        """Raw score ``log1p(d2 / p)`` per row (>= 0; NaN for rows with a non-finite value)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.full(len(x), np.nan)
        ok = np.isfinite(x).all(axis=1)
        if ok.any():
            out[ok] = self._raw((self.median_, self.scale_, self.precision_), x[ok])
        return out

    def percentile(self, x: np.ndarray) -> np.ndarray:
        """Share of the reference images less atypical than each row, in [0, 1] (NaN if unreadable)."""
        raw = self.score(x)
        q = self.reference_quantiles_
        grid = np.linspace(0, 1, len(q))
        q = q + np.arange(len(q)) * 1e-12  # strictly increasing, even where quantiles tie
        out = np.full(len(raw), np.nan)
        ok = np.isfinite(raw)
        out[ok] = np.interp(raw[ok], q, grid)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (plain lists of floats)."""
        return {"columns": self.columns_, "median": self.median_.tolist(),
                "scale": self.scale_.tolist(), "precision": self.precision_.tolist(),
                "reference_quantiles": self.reference_quantiles_.tolist(),
                "n_reference": self.n_reference_, "folds": self.folds}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Atypicality:
        """Rebuild from :meth:`to_dict` output; raises ValueError on inconsistent shapes."""
        obj = cls(folds=int(d.get("folds", 5)))
        obj.columns_ = [str(c) for c in d["columns"]]
        p = len(obj.columns_)
        obj.median_ = np.asarray(d["median"], dtype=np.float64)
        obj.scale_ = np.asarray(d["scale"], dtype=np.float64)
        obj.precision_ = np.asarray(d["precision"], dtype=np.float64)
        obj.reference_quantiles_ = np.asarray(d["reference_quantiles"], dtype=np.float64)
        obj.n_reference_ = int(d["n_reference"])
        shapes_ok = (obj.median_.shape == (p,) and obj.scale_.shape == (p,)
                     and obj.precision_.shape == (p, p) and obj.reference_quantiles_.ndim == 1
                     and len(obj.reference_quantiles_) >= 2)
        finite = all(np.isfinite(a).all() for a in (obj.median_, obj.scale_, obj.precision_,
                                                     obj.reference_quantiles_))
        if not shapes_ok or not finite:
            raise ValueError("atypicality parameters have inconsistent shapes or non-finite values")
        return obj
