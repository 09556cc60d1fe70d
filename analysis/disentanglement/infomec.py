"""InfoMEC (Hsu et al. 2023): InfoM (modularity), InfoE (explicitness), InfoC (compactness)
from the mutual information between each latent and each source, normalised by the source's
entropy. Continuous latents: k-nearest-neighbour MI (k=10) on standardised latents, the
published estimator, or — for dictionary-sized latent spaces, where kNN is too slow — the binned
plug-in estimator (`mi_estimator="binned"`, 20 equal-width bins, sparse-aware). Discrete
latents: plug-in. Latents whose range is below a twentieth of the largest are pruned (discrete:
constant ones). InfoE: the drop in log-loss of an unregularised multinomial logistic regression
from the (kept) latents, relative to a constant predictor.

A latent that knows almost nothing about any source still enters InfoM with its max/sum ratio,
which is then pure estimator noise; dictionary latent spaces are full of such latents.
`min_latent_nmi` (off by default, so the published definition stays the default) leaves latents
whose total normalised MI over the sources is below it out of InfoM and InfoC (they stay in the
returned matrix and in InfoE's regression). `mi_correction="miller-madow"` bias-corrects the
plug-in estimators (binned and discrete)."""

from typing import Literal, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, StandardScaler

from saekit.analysis.disentanglement.binned import binned_mi, discrete_mi, factor_entropies
from saekit.analysis.disentanglement.inputs import Latents, as_arrays, column_ranges, dense
from saekit.analysis.disentanglement.settings import Correction, check_correction

KNN_DENSE_LIMIT = 1 << 28
"""Largest latent matrix (entries) the kNN estimator densifies; beyond it use `binned`."""


class InfoMEC(NamedTuple):
    infom: float
    infoe: float
    """NaN when not computed (`explicitness=False`)."""
    infoc: float
    nmi: np.ndarray
    """`[sources, latents]` normalised mutual information (zero for pruned latents)."""
    active: np.ndarray
    """`[latents]` bool, latents kept after pruning."""
    informative: np.ndarray
    """`[latents]` bool, the active latents InfoM and InfoC were computed over."""


class _Estimator(NamedTuple):
    name: str
    n_neighbors: int
    correction: Correction
    seed: int


def _mutual_information(z: Latents, v: np.ndarray, estimator: _Estimator) -> np.ndarray:
    """`[F, L]` MI in nats."""
    if estimator.name == "discrete":
        return discrete_mi(dense(z), v, estimator.correction).T
    if estimator.name == "binned":
        return binned_mi(z, v, correction=estimator.correction).T
    if z.shape[0] * z.shape[1] > KNN_DENSE_LIMIT:
        raise ValueError(
            f"kNN mutual information over {z.shape[1]} latents x {z.shape[0]} samples is too "
            "slow and large: pass mi_estimator='binned'"
        )
    zs = StandardScaler().fit_transform(dense(z))
    return np.stack(
        [
            mutual_info_classif(
                zs,
                f,
                discrete_features=False,
                n_neighbors=estimator.n_neighbors,
                random_state=estimator.seed,
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


def _ratio_score(nmi: np.ndarray, axis: int) -> float:
    """Mean max/sum ratio along `axis`, rescaled so 1/n (an even spread) maps to 0."""
    n = nmi.shape[axis]
    ratio = nmi.max(axis) / np.clip(nmi.sum(axis), 1e-12, None)
    return float((ratio.mean() - 1 / n) / (1 - 1 / n)) if n > 1 else 1.0


def infomec(
    latents,
    factors,
    discrete_latents: bool = False,
    mi_estimator: Literal["knn", "binned"] = "knn",
    n_neighbors: int = 10,
    prune_fraction: float = 1 / 20,
    seed: int = 0,
    mi_correction: Correction = None,
    min_latent_nmi: float = 0.0,
    explicitness: bool = True,
) -> InfoMEC:
    """Latents may be sparse (a dictionary's activations); latents whose range is below
    `prune_fraction` of the largest are left out of the MI estimate and of InfoE's regression,
    so only latents that vary are worked on. `mi_correction` applies to the binned and discrete
    estimators (kNN has no plug-in bias of that kind). `explicitness=False` skips InfoE's
    regression (most of the time at small sizes)."""
    if mi_estimator not in ("knn", "binned"):
        raise ValueError(f"mi_estimator must be 'knn' or 'binned', got {mi_estimator!r}")
    check_correction(mi_correction)
    if min_latent_nmi < 0:
        raise ValueError(f"min_latent_nmi must be >= 0, got {min_latent_nmi}")
    z, v = as_arrays(latents, factors)
    lo, hi = column_ranges(z)
    ranges = hi - lo
    active = ranges > 0 if discrete_latents else ranges > ranges.max() * prune_fraction
    if not active.any():
        raise ValueError("every latent is constant: nothing to score")
    kept = z[:, np.flatnonzero(active)]
    name = "discrete" if discrete_latents else mi_estimator
    nmi = np.zeros((v.shape[1], z.shape[1]))
    estimator = _Estimator(name, n_neighbors, mi_correction, seed)
    nmi[:, active] = _mutual_information(kept, v, estimator)
    nmi /= factor_entropies(v)[:, None]
    informative = active & (nmi.sum(0) >= min_latent_nmi)
    if not informative.any():
        raise ValueError(
            f"no latent has a total normalised MI >= min_latent_nmi={min_latent_nmi} "
            f"(largest: {nmi.sum(0).max():.3g}): lower the threshold"
        )
    scored = nmi[:, informative]
    return InfoMEC(
        _ratio_score(scored, axis=0),
        infoe(kept, v, discrete_latents) if explicitness else float("nan"),
        _ratio_score(scored, axis=1),
        nmi,
        active,
        informative,
    )
