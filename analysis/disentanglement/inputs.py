"""Input checks and the information-theoretic pieces the metrics share."""

import numpy as np
from sklearn.metrics import mutual_info_score
from sklearn.preprocessing import LabelEncoder


def as_arrays(latents, factors) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert to float latents `[N, L]` and integer-coded factors `[N, F]`."""
    latents = np.asarray(
        latents.detach().cpu() if hasattr(latents, "detach") else latents, dtype=np.float64
    )
    factors = np.asarray(factors.detach().cpu() if hasattr(factors, "detach") else factors)
    if latents.ndim != 2 or factors.ndim != 2:
        raise ValueError(
            f"expected latents [N, L] and factors [N, F], got {latents.shape} and {factors.shape}"
        )
    if latents.shape[0] != factors.shape[0]:
        raise ValueError(
            f"latents have {latents.shape[0]} samples but factors have "
            f"{factors.shape[0]}: pass the same samples to both"
        )
    if latents.shape[0] < 2:
        raise ValueError("need at least 2 samples")
    if not np.isfinite(latents).all():
        raise ValueError("latents contain NaN or inf: drop those samples first")
    if factors.dtype.kind == "f" and not np.isfinite(factors).all():
        raise ValueError("factors contain NaN or inf: drop those samples first")
    constant = [i for i in range(factors.shape[1]) if np.unique(factors[:, i]).size < 2]
    if constant:
        raise ValueError(
            f"factors {constant} are constant: their information is undefined; drop them"
        )
    coded = np.stack(
        [LabelEncoder().fit_transform(factors[:, i]) for i in range(factors.shape[1])], axis=1
    )
    return latents, coded


def discretize(latents: np.ndarray, bins: int = 20) -> np.ndarray:
    """Equal-width histogram bins per latent (the estimator of Locatello et al. 2019)."""
    out = np.zeros(latents.shape, dtype=np.int64)
    for j in range(latents.shape[1]):
        column = latents[:, j]
        edges = np.histogram_bin_edges(column, bins=bins)
        out[:, j] = np.digitize(column, edges[1:-1])
    return out


def discrete_mi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plug-in mutual information (nats) between every column of `a` and every column of `b`:
    `[a.shape[1], b.shape[1]]`."""
    return np.array(
        [
            [mutual_info_score(a[:, i], b[:, j]) for j in range(b.shape[1])]
            for i in range(a.shape[1])
        ]
    )


def entropies(factors: np.ndarray) -> np.ndarray:
    return np.array(
        [mutual_info_score(factors[:, i], factors[:, i]) for i in range(factors.shape[1])]
    )
