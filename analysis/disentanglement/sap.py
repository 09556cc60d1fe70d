"""Separated Attribute Predictability (Kumar et al. 2018): for each factor, the gap between the
two latents that predict it best on their own; averaged over factors."""

import numpy as np
from saekit.analysis.disentanglement.inputs import as_arrays
from sklearn.svm import LinearSVC


def _score_matrix(z: np.ndarray, v: np.ndarray, continuous: bool, train_fraction: float):
    if continuous:  # R^2 of a one-latent linear fit = squared correlation
        zc, vc = z - z.mean(0), v - v.mean(0)
        cov = zc.T @ vc / len(z)
        var = np.outer(zc.var(0), vc.var(0))
        return np.where(var > 0, cov**2 / np.where(var > 0, var, 1), 0.0)
    n_train = int(len(z) * train_fraction)
    scores = np.zeros((z.shape[1], v.shape[1]))
    for j in range(z.shape[1]):
        for i in range(v.shape[1]):
            if np.ptp(z[:n_train, j]) == 0:
                continue
            clf = LinearSVC(C=0.01, dual="auto").fit(z[:n_train, j : j + 1], v[:n_train, i])
            scores[j, i] = clf.score(z[n_train:, j : j + 1], v[n_train:, i])
    return scores


def sap(latents, factors, continuous_factors: bool = False, train_fraction: float = 0.8) -> float:
    """Discrete factors (default): per-latent linear SVM accuracy on held-out samples, as in
    Locatello et al.'s implementation; continuous: per-latent R^2."""
    z, v = as_arrays(latents, factors)
    if continuous_factors:
        v = np.asarray(factors, dtype=np.float64)
    if z.shape[1] < 2:
        raise ValueError("SAP needs at least 2 latents")
    scores = _score_matrix(z, v, continuous_factors, train_fraction)
    top = np.sort(scores, axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))
