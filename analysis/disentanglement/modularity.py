"""Modularity and explicitness (Ridgeway & Mozer 2018)."""

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

from saekit.analysis.disentanglement.binned import binned_mi
from saekit.analysis.disentanglement.inputs import as_arrays, train_test
from saekit.analysis.disentanglement.settings import Correction


class ModularityExplicitness(NamedTuple):
    modularity: float
    """Mean over latents of 1 - (deviation of its MI profile from a one-factor template)."""
    explicitness: float
    """Mean over factors of the one-vs-rest ROC-AUC of a logistic regression from all latents."""


def modularity(latents, factors, bins: int = 20, correction: Correction = None) -> float:
    z, v = as_arrays(latents, factors)
    mi = binned_mi(z, v, bins, correction)  # [L, F]
    theta = mi.max(axis=1)
    live = theta > 0
    mi, theta = mi[live], theta[live]
    template = np.zeros_like(mi)
    template[np.arange(len(mi)), mi.argmax(axis=1)] = theta
    deviation = ((mi - template) ** 2).sum(1) / (theta**2 * max(v.shape[1] - 1, 1))
    return float(np.mean(1 - deviation))


def explicitness(latents, factors, train_fraction: float = 0.8, seed: int = 0) -> float:
    """Latents standardised (sparse ones scaled by their largest magnitude, keeping zeros)."""
    z, v = as_arrays(latents, factors)
    z = (MaxAbsScaler() if sparse.issparse(z) else StandardScaler()).fit_transform(z)
    z = sparse.csr_array(z) if sparse.issparse(z) else z
    split = train_test(z, v, train_fraction, seed)
    aucs = []
    for i in range(v.shape[1]):
        model = LogisticRegression(max_iter=500).fit(split.z_train, split.v_train[:, i])
        probs = model.predict_proba(split.z_test)
        truth = split.v_test[:, i]
        per_value = [
            roc_auc_score(truth == c, probs[:, k])
            for k, c in enumerate(model.classes_)
            if 0 < (truth == c).sum() < len(probs)
        ]
        aucs.append(np.mean(per_value))
    return float(np.mean(aucs))


def modularity_explicitness(
    latents, factors, bins: int = 20, correction: Correction = None, seed: int = 0
) -> ModularityExplicitness:
    return ModularityExplicitness(
        modularity(latents, factors, bins, correction), explicitness(latents, factors, seed=seed)
    )
