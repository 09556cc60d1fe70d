"""DCI (Eastwood & Williams 2018): from an importance matrix R [latents, factors] learned by one
regressor per factor — Disentanglement (each latent's importance concentrated on one factor,
weighted by its total importance), Completeness (each factor captured by one latent) and
Informativeness (held-out accuracy of those regressors)."""

from typing import Literal, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

from saekit.analysis.disentanglement.inputs import as_arrays, train_test

LASSO_TOL = 1e-2
"""saga's stopping tolerance: looser than sklearn's 1e-4, which costs ~10x the time for
importances that no longer change their ranking."""
LASSO_PENALTY = 1 / 800
"""The L1 penalty per training sample: sklearn's `C` multiplies the summed loss, so a fixed `C`
regularises less as N grows and the scores drift with N instead of converging; `C` is set to
1 / (LASSO_PENALTY * N) so the objective is mean loss + LASSO_PENALTY * |w|_1 at every N (the
earlier C = 0.1 at 8,000 training samples)."""


class DCIScores(NamedTuple):
    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray
    """`[latents, factors]` the importance matrix."""


def _entropy_normalised(p: np.ndarray, base: int, axis: int) -> np.ndarray:
    p = p / np.clip(p.sum(axis=axis, keepdims=True), 1e-12, None)
    logs = np.log(np.clip(p, 1e-12, None)) / np.log(base)
    return -(p * logs).sum(axis=axis)


def _fit(z_train, y_train, estimator: str, seed: int):
    if estimator == "gbt":
        model = GradientBoostingClassifier(random_state=seed)
        model.fit(z_train, y_train)
        return model, model.feature_importances_
    strength = 1 / (LASSO_PENALTY * z_train.shape[0])
    model = LogisticRegression(
        l1_ratio=1.0, solver="saga", C=strength, max_iter=100, tol=LASSO_TOL, random_state=seed
    )
    model.fit(z_train, y_train)
    return model, np.abs(model.coef_).sum(0)


def dci(
    latents,
    factors,
    estimator: Literal["gbt", "lasso"] = "gbt",
    train_fraction: float = 0.8,
    seed: int = 0,
) -> DCIScores:
    """`gbt`: sklearn gradient-boosted trees, the published choice (slow for many latents);
    `lasso`: L1 multinomial logistic regression (saga, stopping at a relative change of
    `LASSO_TOL`) on standardised latents, summed |coefficients| as importances —
    the fast estimator for dictionary-sized latent spaces (sparse latents are scaled by their
    largest magnitude instead, which keeps them sparse)."""
    z, v = as_arrays(latents, factors)
    if estimator not in ("gbt", "lasso"):
        raise ValueError("estimator must be 'gbt' or 'lasso'")
    if sparse.issparse(z):
        z = sparse.csr_array(MaxAbsScaler().fit_transform(z) if estimator == "lasso" else z)
    elif estimator == "lasso":
        z = StandardScaler().fit_transform(z)
    split = train_test(z, v, train_fraction, seed)
    importance = np.zeros((z.shape[1], v.shape[1]))
    accuracy = []
    for i in range(v.shape[1]):
        model, imp = _fit(split.z_train, split.v_train[:, i], estimator, seed)
        importance[:, i] = imp
        accuracy.append(model.score(split.z_test, split.v_test[:, i]))
    n_latents, n_factors = importance.shape
    per_latent = 1 - _entropy_normalised(importance, max(n_factors, 2), axis=1)
    weights = importance.sum(1) / max(importance.sum(), 1e-12)
    per_factor = 1 - _entropy_normalised(importance, max(n_latents, 2), axis=0)
    return DCIScores(
        float((weights * per_latent).sum()),
        float(per_factor.mean()),
        float(np.mean(accuracy)),
        importance,
    )
