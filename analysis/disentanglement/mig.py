"""Mutual Information Gap (Chen et al. 2018): for each factor, the gap between the two latents
that know most about it, divided by the factor's entropy; averaged over factors."""

import numpy as np
from saekit.analysis.disentanglement.inputs import as_arrays, discrete_mi, discretize, entropies


def mig(latents, factors, bins: int = 20) -> float:
    """Latents are discretised into `bins` equal-width bins (the published default, 20)."""
    z, v = as_arrays(latents, factors)
    if z.shape[1] < 2:
        raise ValueError("MIG needs at least 2 latents")
    mi = discrete_mi(discretize(z, bins), v)  # [L, F]
    top = np.sort(mi, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / entropies(v)))
