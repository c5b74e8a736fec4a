"""Logistic fits and the log-odds transform shared by calibration and the stacks."""

from __future__ import annotations

import numpy as np

__all__ = ["logistic_fit", "logit", "platt_fit"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def platt_fit(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit P(y=1) = sigmoid(a * raw + b) with Platt's target smoothing (no penalty).

    Parameters
    ----------
    raw : ndarray
        Raw scores (log-odds).
    y : ndarray of {0, 1}
        Outcomes (1 = misclassified).

    Returns
    -------
    (a, b) : tuple of float
    """
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    coef, intercept = logistic_fit(np.asarray(raw, dtype=np.float64)[:, None], t, l2=0.0)
    return float(coef[0]), intercept


def logistic_fit(z: np.ndarray, y: np.ndarray, *, l2: float = 1.0,
                 n_iter: int = 100) -> tuple[np.ndarray, float]:
    """Ridge logistic regression by damped Newton: P(y=1) = sigmoid(z @ coef + intercept).

    Minimises the summed log-loss plus ``l2 / 2 * ||coef||^2`` (the intercept is not
    penalised), the objective of scikit-learn's ``LogisticRegression(C=1 / l2)``.

    Parameters
    ----------
    z : ndarray, shape (n, d)
        Inputs.
    y : ndarray of float in [0, 1], shape (n,)
        Outcomes (1 = misclassified), or smoothed targets (Platt).
    l2 : float, default 1.0
        Ridge penalty on the coefficients; 0 for none.

    Returns
    -------
    (coef, intercept) : ndarray of shape (d,), float
    """
    n, d = z.shape
    x = np.column_stack([z, np.ones(n)])
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    w = np.zeros(d + 1)
    w[-1] = np.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9))

    def objective(v: np.ndarray) -> float:
        z = x @ v
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * v * v))

    current = objective(w)
    for _ in range(n_iter):
        p = _sigmoid(x @ w)
        grad = x.T @ (p - y) + penalty * w
        hess = x.T @ (x * np.maximum(p * (1 - p), 1e-12)[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        for _ in range(30):  # halve a Newton step that would raise the objective
            value = objective(w - step)
            if value <= current:
                break
            step = step / 2
        w, current = w - step, value
        if np.abs(step).max() < 1e-10:
            break
    return w[:-1].copy(), float(w[-1])


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6]; NaN stays NaN."""
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
