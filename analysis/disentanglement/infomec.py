"""InfoMEC (Hsu et al. 2023): InfoM (modularity), InfoE (explicitness), InfoC (compactness)
from the mutual information between each latent and each source, normalised by the source's
entropy. Continuous latents: k-nearest-neighbour MI (k=10) on standardised latents; discrete
latents: plug-in. Latents whose range is below a twentieth of the largest are pruned (discrete:
constant ones). InfoE: the drop in log-loss of an unregularised multinomial logistic regression
from the latents, relative to a constant predictor."""

from typing import NamedTuple

import numpy as np
from saekit.analysis.disentanglement.inputs import as_arrays, discrete_mi, entropies
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import OneHotEncoder, StandardScaler


class InfoMEC(NamedTuple):
    infom: float
    infoe: float
    infoc: float
    nmi: np.ndarray
    """`[sources, latents]` normalised mutual information."""
    active: np.ndarray
    """`[latents]` bool, latents kept after pruning."""


def normalised_mi(
    z: np.ndarray, v: np.ndarray, discrete_latents: bool, n_neighbors: int, seed: int
) -> np.ndarray:
    if discrete_latents:
        mi = discrete_mi(v, z.astype(np.int64))
    else:
        zs = StandardScaler().fit_transform(z)
        mi = np.stack(
            [
                mutual_info_classif(
                    zs, v[:, i], discrete_features=False, n_neighbors=n_neighbors, random_state=seed
                )
                for i in range(v.shape[1])
            ]
        )
    return mi / entropies(v)[:, None]


def _log_loss_of_logistic(x: np.ndarray, y: np.ndarray) -> float:
    model = LogisticRegression(C=np.inf, class_weight="balanced", max_iter=100)  # unregularised
    model.fit(x, y)
    return log_loss(y, model.predict_proba(x), labels=model.classes_)


def infoe(z: np.ndarray, v: np.ndarray, discrete_latents: bool) -> float:
    x = (
        OneHotEncoder().fit_transform(z).toarray()
        if discrete_latents
        else StandardScaler().fit_transform(z)
    )
    gains = []
    for i in range(v.shape[1]):
        with_latents = _log_loss_of_logistic(x, v[:, i])
        constant = _log_loss_of_logistic(np.zeros((len(x), 1)), v[:, i])
        gains.append((constant - with_latents) / constant)
    return float(np.mean(gains))


def infomec(
    latents, factors, discrete_latents: bool = False, n_neighbors: int = 10, seed: int = 0
) -> InfoMEC:
    z, v = as_arrays(latents, factors)
    nmi = normalised_mi(z, v, discrete_latents, n_neighbors, seed)
    ranges = np.ptp(z, axis=0)
    active = ranges > 0 if discrete_latents else ranges > ranges.max() / 20
    pruned = nmi[:, active]
    n_sources, n_active = v.shape[1], int(active.sum())
    if n_active == 0:
        raise ValueError("every latent is constant: nothing to score")
    col = pruned.max(0) / np.clip(pruned.sum(0), 1e-12, None)
    row = pruned.max(1) / np.clip(pruned.sum(1), 1e-12, None)
    infom = (col.mean() - 1 / n_sources) / (1 - 1 / n_sources) if n_sources > 1 else 1.0
    infoc = (row.mean() - 1 / n_active) / (1 - 1 / n_active) if n_active > 1 else 1.0
    return InfoMEC(float(infom), infoe(z, v, discrete_latents), float(infoc), nmi, active)
