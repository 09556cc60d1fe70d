"""InfoMEC (Hsu et al. 2023): InfoM (modularity), InfoE (explicitness), InfoC (compactness)
from the mutual information between each latent and each source, normalised by the source's
entropy. Continuous latents: k-nearest-neighbour MI (k=10) on standardised latents, the
published estimator, or — for dictionary-sized latent spaces, where kNN is too slow — the binned
plug-in estimator (`mi_estimator="binned"`, 20 equal-width bins, sparse-aware). Discrete
latents: plug-in. Latents whose range is below a twentieth of the largest are pruned (discrete:
constant ones). InfoE: the drop in log-loss of an unregularised multinomial logistic regression
from the (kept) latents, relative to a constant predictor."""

from typing import Literal, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, mutual_info_score
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, StandardScaler

from saekit.analysis.disentanglement.binned import binned_mi, factor_entropies
from saekit.analysis.disentanglement.inputs import Latents, as_arrays, column_ranges, dense

KNN_DENSE_LIMIT = 1 << 28
"""Largest latent matrix (entries) the kNN estimator densifies; beyond it use `binned`."""


class InfoMEC(NamedTuple):
    infom: float
    infoe: float
    infoc: float
    nmi: np.ndarray
    """`[sources, latents]` normalised mutual information (zero for pruned latents)."""
    active: np.ndarray
    """`[latents]` bool, latents kept after pruning."""


def _mutual_information(z: Latents, v: np.ndarray, estimator: str, n_neighbors: int, seed: int):
    """`[F, L]` MI in nats."""
    if estimator == "discrete":
        codes = dense(z).astype(np.int64)
        return np.array(
            [[mutual_info_score(f, c) for c in codes.T] for f in v.T]
        )  # small: codes have few latents
    if estimator == "binned":
        return binned_mi(z, v).T
    if z.shape[0] * z.shape[1] > KNN_DENSE_LIMIT:
        raise ValueError(
            f"kNN mutual information over {z.shape[1]} latents x {z.shape[0]} samples is too "
            "slow and large: pass mi_estimator='binned'"
        )
    zs = StandardScaler().fit_transform(dense(z))
    return np.stack(
        [
            mutual_info_classif(
                zs, f, discrete_features=False, n_neighbors=n_neighbors, random_state=seed
            )
            for f in v.T
        ]
    )


def _log_loss_of_logistic(x, y: np.ndarray) -> float:
    model = LogisticRegression(C=np.inf, class_weight="balanced", max_iter=100)  # unregularised
    model.fit(x, y)
    return log_loss(y, model.predict_proba(x), labels=model.classes_)


def infoe(z: Latents, v: np.ndarray, discrete_latents: bool) -> float:
    if discrete_latents:
        x = OneHotEncoder().fit_transform(dense(z))
    elif sparse.issparse(z):
        x = sparse.csr_array(MaxAbsScaler().fit_transform(z))
    else:
        x = StandardScaler().fit_transform(z)
    gains = []
    for f in v.T:
        with_latents = _log_loss_of_logistic(x, f)
        constant = _log_loss_of_logistic(np.zeros((len(f), 1)), f)
        gains.append((constant - with_latents) / constant)
    return float(np.mean(gains))


def infomec(
    latents,
    factors,
    discrete_latents: bool = False,
    mi_estimator: Literal["knn", "binned"] = "knn",
    n_neighbors: int = 10,
    prune_fraction: float = 1 / 20,
    seed: int = 0,
) -> InfoMEC:
    """Latents may be sparse (a dictionary's activations); latents whose range is below
    `prune_fraction` of the largest are left out of the MI estimate and of InfoE's regression,
    so only latents that vary are worked on."""
    if mi_estimator not in ("knn", "binned"):
        raise ValueError(f"mi_estimator must be 'knn' or 'binned', got {mi_estimator!r}")
    z, v = as_arrays(latents, factors)
    lo, hi = column_ranges(z)
    ranges = hi - lo
    active = ranges > 0 if discrete_latents else ranges > ranges.max() * prune_fraction
    n_sources, n_active = v.shape[1], int(active.sum())
    if n_active == 0:
        raise ValueError("every latent is constant: nothing to score")
    kept = z[:, np.flatnonzero(active)]
    estimator = "discrete" if discrete_latents else mi_estimator
    nmi = np.zeros((n_sources, z.shape[1]))
    nmi[:, active] = _mutual_information(kept, v, estimator, n_neighbors, seed)
    nmi /= factor_entropies(v)[:, None]
    pruned = nmi[:, active]
    col = pruned.max(0) / np.clip(pruned.sum(0), 1e-12, None)
    row = pruned.max(1) / np.clip(pruned.sum(1), 1e-12, None)
    infom = (col.mean() - 1 / n_sources) / (1 - 1 / n_sources) if n_sources > 1 else 1.0
    infoc = (row.mean() - 1 / n_active) / (1 - 1 / n_active) if n_active > 1 else 1.0
    return InfoMEC(float(infom), infoe(kept, v, discrete_latents), float(infoc), nmi, active)
