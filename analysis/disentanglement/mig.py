"""Mutual Information Gap (Chen et al. 2018): for each factor, the gap between the two latents
that know most about it, divided by the factor's entropy; averaged over factors."""

import numpy as np

from saekit.analysis.disentanglement.binned import binned_mi, factor_entropies
from saekit.analysis.disentanglement.inputs import as_arrays
from saekit.analysis.disentanglement.settings import Correction


def mig(latents, factors, bins: int = 20, correction: Correction = None) -> float:
    """Latents are discretised into `bins` equal-width bins (the published default, 20).
    Sparse latents are supported at dictionary scale (see `binned_mi`); `correction`:
    None (plug-in, published) or "miller-madow"."""
    z, v = as_arrays(latents, factors)
    if z.shape[1] < 2:
        raise ValueError("MIG needs at least 2 latents")
    mi = binned_mi(z, v, bins, correction)  # [L, F]
    top = -np.partition(-mi, 1, axis=0)[:2]
    return float(np.mean((top[0] - top[1]) / factor_entropies(v)))
