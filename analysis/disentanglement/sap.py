"""Separated Attribute Predictability (Kumar et al. 2018): for each factor, the gap between the
two latents that predict it best on their own; averaged over factors."""

from typing import Literal

import numpy as np
from sklearn.svm import LinearSVC

from saekit.analysis.disentanglement.inputs import (
    Latents,
    as_arrays,
    dense,
    stored_entries,
    train_test,
)


def svm_accuracy(z: Latents, v: np.ndarray, train_fraction: float, seed: int = 0) -> np.ndarray:
    """Held-out accuracy of a one-latent linear SVM per (latent, factor), as in Locatello et
    al.'s implementation; a latent constant on the training part scores 0."""
    split = train_test(z, v, train_fraction, seed)
    scores = np.zeros((z.shape[1], v.shape[1]))
    for j in range(z.shape[1]):
        train, test = dense(split.z_train[:, [j]]), dense(split.z_test[:, [j]])
        if np.ptp(train) == 0:
            continue
        for i in range(v.shape[1]):
            clf = LinearSVC(C=0.01, dual="auto").fit(train, split.v_train[:, i])
            scores[j, i] = clf.score(test, split.v_test[:, i])
    return scores


def _r2(z: np.ndarray, v: np.ndarray) -> np.ndarray:
    """R^2 of a one-latent linear fit to a continuous factor = squared correlation."""
    zc, vc = z - z.mean(0), v - v.mean(0)
    cov = zc.T @ vc / len(z)
    var = np.outer(zc.var(0), vc.var(0))
    return np.where(var > 0, cov**2 / np.where(var > 0, var, 1), 0.0)


def correlation_ratio(z: Latents, v: np.ndarray) -> np.ndarray:
    """`[L, F]` eta^2: the share of each latent's variance explained by a factor's values (the
    R^2 of the best one-latent predictor of the latent from the factor). Vectorised; for a
    sparse matrix only stored entries are visited."""
    n, n_latents = z.shape
    sizes = [int(f.max()) + 1 for f in v.T]
    total, squares = np.zeros(n_latents), np.zeros(n_latents)
    sums = [np.zeros(n_latents * k) for k in sizes]  # per (latent, factor value)
    for rows, cols, values in stored_entries(z):
        total += np.bincount(cols, values, n_latents)
        squares += np.bincount(cols, values**2, n_latents)
        for f, k, acc in zip(v.T, sizes, sums, strict=True):
            acc += np.bincount(cols * k + f[rows], values, n_latents * k)
    mean = total / n
    variance = squares / n - mean**2
    out = np.zeros((n_latents, v.shape[1]))
    for i, (f, k, acc) in enumerate(zip(v.T, sizes, sums, strict=True)):
        counts = np.bincount(f, minlength=k)
        between = (acc.reshape(n_latents, k) ** 2 / np.maximum(counts, 1)).sum(1) / n - mean**2
        out[:, i] = np.where(variance > 1e-12, between / np.where(variance > 1e-12, variance, 1), 0)
    return np.clip(out, 0, 1)


def sap(
    latents,
    factors,
    continuous_factors: bool = False,
    estimator: Literal["svm", "correlation_ratio"] = "svm",
    train_fraction: float = 0.8,
    seed: int = 0,
) -> float:
    """Discrete factors: per-latent linear SVM accuracy on held-out samples (`svm`, the
    published estimator: L x F fits, slow for thousands of latents) or the correlation ratio
    eta^2 of each latent on each factor (`correlation_ratio`, vectorised, sparse-aware: the
    fast estimator for dictionaries). Continuous factors: per-latent R^2. `seed` picks the SVM's
    held-out split."""
    if estimator not in ("svm", "correlation_ratio"):
        raise ValueError(f"estimator must be 'svm' or 'correlation_ratio', got {estimator!r}")
    z, v = as_arrays(latents, factors)
    if z.shape[1] < 2:
        raise ValueError("SAP needs at least 2 latents")
    if continuous_factors:
        scores = _r2(dense(z), np.asarray(factors, dtype=np.float64))
    elif estimator == "svm":
        scores = svm_accuracy(z, v, train_fraction, seed)
    else:
        scores = correlation_ratio(z, v)
    top = -np.partition(-scores, 1, axis=0)[:2]
    return float(np.mean(top[0] - top[1]))
