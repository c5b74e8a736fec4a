"""Failure scores from penultimate-layer embeddings: distance to what the classifier got right.

An image whose embedding lies far from every correctly classified validation image, far
from those of its predicted class, or near past mistakes is more likely misclassified.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from featrisk.errors import ModelFileError, NotFittedError
from featrisk.signals import _checks as chk
from featrisk.signals import _distances as dist

__all__ = ["EmbeddingScorer"]

FORMAT = "featrisk-embedding-scorer"
#: 2 stores the reference rows as base64 float32 (version 1, plain lists, still loads).
FORMAT_VERSION = 2
#: Query rows x reference rows per block of distances (float32: 16 MiB per block), so memory
#: stays bounded whatever the number of query images.
BLOCK_ENTRIES = 1 << 22
#: Ridge added to the tied covariance's diagonal, as a share of its mean variance trace / d.
RIDGE = 1e-6
_SHAPE = "(n_images, n_features)"
_ARRAYS = ("mean", "components", "reference", "reference_class", "reference_correct",
           "class_labels", "class_means", "precision")


def _float32_block(block: dict[str, Any]) -> np.ndarray:
    """A float32 array from its ``{"dtype", "shape", "base64"}`` entry (data only, no code)."""
    shape = tuple(int(v) for v in block["shape"])
    raw = base64.b64decode(block["base64"], validate=True)
    if block["dtype"] != "float32" or len(shape) != 2 or len(raw) != 4 * shape[0] * shape[1]:
        raise ValueError(f"reference: {len(raw)} bytes do not hold float32 {shape}")
    return np.frombuffer(raw, dtype="<f4").reshape(shape)


def _pca(xr: np.ndarray, n_comp: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading principal axes (rows, by falling variance) and centre of ``xr``.

    ``xr`` is a copy and is centred in place. A tall ``xr`` (more rows than columns) takes
    the eigenvectors of its D x D scatter matrix, like scikit-learn's ``covariance_eigh``
    PCA solver: about 5x faster than the SVD of 20000 x 512 (the gap grows with D). Squaring
    the matrix only blurs axes whose variance is below ~1e-13 of the largest, which carry
    next to nothing of the distances; a wide ``xr`` takes the SVD.
    """
    mean = xr.mean(axis=0)
    xr -= mean
    if len(xr) > xr.shape[1]:
        _, vecs = np.linalg.eigh(xr.T @ xr)
        return np.ascontiguousarray(vecs[:, ::-1][:, :n_comp].T), mean
    return np.linalg.svd(xr, full_matrices=False)[2][:n_comp], mean


def _reference_rows(ok: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Rows kept as the kNN reference: all, or a sorted seeded sample of ``cap`` of them.

    ``ok`` flags the correct rows; raises ValueError when none of the kept rows is correct.
    """
    n = len(ok)
    ref = np.arange(n)
    if n > cap:
        ref = np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))
    if not ok[ref].any():
        raise ValueError(f"correct must mark at least one reference image as right; received "
                         f"{int(ok.sum())} of {n} (none among the {ref.size} kept); scorers "
                         "compare to correctly classified images, so fit on a validation set")
    return ref


def _arrays_to_dict(a: dict[str, np.ndarray]) -> dict[str, Any]:
    """The fitted arrays (by name, see :data:`_ARRAYS`) as JSON-ready entries (format 2).

    Plain lists, but ``reference`` as a base64 block of little-endian float32.
    """
    ref = np.ascontiguousarray(a["reference"], dtype="<f4")
    return {
        **{name: a[name].tolist() for name in _ARRAYS},
        "reference": {"dtype": "float32", "shape": list(ref.shape),
                      "base64": base64.b64encode(ref.tobytes()).decode("ascii")},
    }


def _arrays_from_dict(d: dict[str, Any]) -> dict[str, np.ndarray]:
    """The fitted arrays of a :meth:`EmbeddingScorer.to_dict` output, by name without ``_``.

    Version 2 stores ``reference`` as a base64 float32 block, version 1 as plain lists.
    Raises KeyError, TypeError, ValueError or binascii.Error on a missing or invalid entry.
    """
    dtypes = {"reference": np.float32, "reference_class": np.int64,
              "reference_correct": bool, "class_labels": np.int64}
    out = {}
    for name in _ARRAYS:
        value = d[name]
        if name == "reference" and d["format_version"] == 2:
            value = _float32_block(value)
        out[name] = np.asarray(value, dtype=dtypes.get(name, np.float64))
    return out


def _consistent(a: dict[str, np.ndarray], width: int) -> bool:
    """Whether loaded arrays (by name, see :data:`_ARRAYS`) fit together and are finite."""
    ref, c = a["reference"], len(a["class_labels"])
    m, dim = ref.shape if ref.ndim == 2 else (0, 0)
    shapes_ok = (m >= 1 and bool(a["reference_correct"].any()) and a["mean"].shape == (width,)
                 and a["components"].shape == (dim, width)
                 and a["reference_class"].shape == a["reference_correct"].shape == (m,)
                 and c >= 1 and a["class_means"].shape == (c, dim)
                 and a["precision"].shape == (dim, dim))
    return shapes_ok and all(np.isfinite(v).all() for v in a.values())


class EmbeddingScorer:
    """kNN, class-conditional and Mahalanobis distances of embeddings to validation images.

    Fitted on the validation images' penultimate-layer embeddings, predicted classes and
    outcomes; scores new images from theirs. Embeddings are centred and projected by PCA
    (of at most ``max_reference`` rows, by NumPy) onto at most ``n_components`` axes; the
    kNN distances compare L2-normalised projections (cosine distance), the Mahalanobis
    distance the projections themselves.

    Parameters
    ----------
    k : int, default 10
        Neighbours averaged by the kNN distances.
    max_reference : int, default 20000
        Most validation rows kept as the kNN reference and used for the PCA (a seeded
        uniform subsample when there are more).
    n_components : int, default 128
        Most PCA axes kept (fewer when the embeddings or the reference have fewer).
    random_state : int, default 0
        Seed of the reference subsample.

    Attributes
    ----------
    n_features_in_ : int
        Embedding width seen in :meth:`fit`.
    mean_, components_ : ndarray, shape (D,) and (d, D)
        PCA centre and axes (float64), d <= ``n_components``.
    reference_ : ndarray of float32, shape (m, d)
        L2-normalised projections of the m <= ``max_reference`` reference rows.
    reference_class_, reference_correct_ : ndarray, shape (m,)
        Their predicted classes (int64) and outcomes (bool).
    class_labels_, class_means_ : ndarray, shape (c,) and (c, d)
        Classes with at least one correct validation image and the mean projection of those
        images (from all fitted rows, not only the reference).
    precision_ : ndarray, shape (d, d)
        Pseudo-inverse of the regularised tied covariance of correct images around their
        class means.

    Notes
    -----
    Size bound: the fitted state holds at most ``max_reference`` x d float32 (the reference;
    10 MB at the defaults) plus d x D + d x d + c x d float64; :meth:`to_dict` writes the
    reference as base64 (4/3 of its bytes: 14 MB at the defaults) and the rest as JSON
    numbers (about 20 characters each: 3.3 MB more for D = 1,280).
    :meth:`transform` works through blocks of :data:`BLOCK_ENTRIES` query x reference
    similarities. Rows that were themselves fitted find themselves among their neighbours,
    so their scores are optimistic: score held-out images (or cross-fit) to train on them.
    """

    def __init__(self, *, k: int = 10, max_reference: int = 20000, n_components: int = 128,
                 random_state: int = 0) -> None:
        self.k = k
        self.max_reference = max_reference
        self.n_components = n_components
        self.random_state = random_state

    def _params(self) -> tuple[int, int, int, int]:
        return (chk.integer(self.k, "k", 1), chk.integer(self.max_reference, "max_reference", 1),
                chk.integer(self.n_components, "n_components", 1),
                chk.integer(self.random_state, "random_state", 0))

    def fit(self, embeddings: npt.ArrayLike, y_pred: npt.ArrayLike,
            correct: npt.ArrayLike) -> EmbeddingScorer:
        """Learn the projection, the reference set and the class statistics.

        Parameters
        ----------
        embeddings : array-like, shape (n_images, n_features)
            Finite penultimate-layer embeddings of validation images.
        y_pred : array-like of int, shape (n_images,)
            Class predicted for each image (indices >= 0).
        correct : array-like of bool or {0, 1}, shape (n_images,)
            1 where the prediction was right; at least one image must be.

        Returns
        -------
        EmbeddingScorer
            ``self``, fitted.

        Raises
        ------
        ValueError
            If a parameter is out of range, the inputs have the wrong shape, dtype or
            non-finite values, or no (reference) image is correct.
        """
        k, cap, n_comp, seed = self._params()
        x = chk.array(embeddings, "embeddings", ndim=2, shape=_SHAPE, min_classes=1)
        n = len(x)
        y = chk.labels(y_pred, "y_pred", n)
        ok = chk.flags(correct, "correct", n)
        ref = _reference_rows(ok, cap, seed)
        self.n_features_in_ = x.shape[1]
        self.components_, self.mean_ = _pca(x[ref], n_comp)
        z = dist.project(x, self.components_, self.mean_)
        self.reference_ = dist.unit_rows(z[ref]).astype(np.float32)
        self.reference_class_, self.reference_correct_ = y[ref], ok[ref]
        self.class_labels_, self.class_means_, self.precision_ = dist.class_statistics(z[ok], y[ok], RIDGE)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "precision_"):
            raise NotFittedError("this EmbeddingScorer is not fitted yet; call "
                                 "fit(embeddings, y_pred, correct) or EmbeddingScorer.from_dict(d)")

    def transform(self, embeddings: npt.ArrayLike, y_pred: npt.ArrayLike) -> pd.DataFrame:
        """Score images from their embeddings and predicted classes.

        Parameters
        ----------
        embeddings : array-like, shape (n_images, n_features)
            Finite embeddings from the same layer of the same classifier as in :meth:`fit`.
        y_pred : array-like of int, shape (n_images,)
            Class predicted for each image; classes unseen in :meth:`fit` use the fallbacks.

        Returns
        -------
        DataFrame
            One float64 row per image, index 0..n-1; higher = more likely wrong:

            - ``signal_knn_distance``: mean cosine distance to the k nearest correct
              reference images (all of them if fewer), in [0, 2].
            - ``signal_knn_distance_class``: the same among correct reference images
              predicted as the row's predicted class, in [0, 2]; equal to
              ``signal_knn_distance`` when that class has fewer than k of them.
            - ``signal_mahalanobis``: Mahalanobis distance (tied covariance) to the mean of
              correct images of the predicted class, or to the nearest class mean when the
              class had no correct image, in [0, inf).
            - ``signal_relative_distance``: kNN distance to correct references minus kNN
              distance to wrong references (all of them if fewer than k), in [-2, 2];
              higher = closer to past mistakes; 0 for every row when no reference is wrong.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`from_dict`.
        ValueError
            If the inputs have the wrong shape, width, dtype or non-finite values.
        """
        self._check_fitted()
        k = chk.integer(self.k, "k", 1)
        x = chk.array(embeddings, "embeddings", ndim=2, shape=_SHAPE, min_classes=1)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"embeddings must have {self.n_features_in_} columns, as in fit; "
                             f"received {x.shape[1]}; use the same layer of the same classifier")
        y = chk.labels(y_pred, "y_pred", len(x))
        z = dist.project(x, self.components_, self.mean_)
        knn, cls, rel = dist.knn_scores(dist.unit_rows(z).astype(np.float32), y, self.reference_,
                                        self.reference_class_, self.reference_correct_, k=k,
                                        block_entries=BLOCK_ENTRIES)
        return chk.frame({
            "signal_knn_distance": knn,
            "signal_knn_distance_class": cls,
            "signal_mahalanobis": dist.mahalanobis(z, y, self.class_labels_, self.class_means_,
                                                   self.precision_),
            "signal_relative_distance": rel,
        })

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-ready plain lists, parameters and a format version.

        Returns
        -------
        dict
            Reload with :meth:`from_dict`; ``json.dumps`` / ``json.loads`` keep every number
            exactly, so the reloaded scorer gives identical scores. Size: see the class notes.
        """
        self._check_fitted()
        k, cap, n_comp, seed = self._params()
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "params": {"k": k, "max_reference": cap, "n_components": n_comp, "random_state": seed},
            "n_features_in": int(self.n_features_in_),
            **_arrays_to_dict({name: getattr(self, name + "_") for name in _ARRAYS}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EmbeddingScorer:
        """Rebuild a fitted scorer from :meth:`to_dict` output.

        Raises
        ------
        ModelFileError
            If ``d`` is not this format and version, or its arrays are missing, non-finite or
            of inconsistent shapes.
        """
        chk.check_format(d, "EmbeddingScorer", FORMAT, (1, FORMAT_VERSION))
        try:
            obj = cls(**d["params"])
            obj._params()
            obj.n_features_in_ = int(d["n_features_in"])
            arrays = _arrays_from_dict(d)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ModelFileError(f"EmbeddingScorer.from_dict: missing or invalid entry ({exc})") from None
        if not _consistent(arrays, obj.n_features_in_):
            raise ModelFileError("EmbeddingScorer.from_dict: arrays have inconsistent shapes or "
                                 "non-finite values; the dict was altered or truncated")
        vars(obj).update({name + "_": value for name, value in arrays.items()})
        return obj
