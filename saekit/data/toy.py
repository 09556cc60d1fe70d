"""Toy model of superposition (Elhage et al. 2022): many more true unit directions than
dimensions, each firing sparsely with a random magnitude, plus noise. The true directions are
known, so a dictionary's recovery of them can be measured."""

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ToyData:
    x: Tensor
    """`[n_samples, d]` observed vectors."""
    features: Tensor
    """`[n_features, d]` the true unit directions."""
    codes: Tensor
    """`[n_samples, n_features]` the true sparse coefficients."""


def toy_superposition(
    n_features: int = 256,
    d: int = 64,
    n_samples: int = 50_000,
    p_active: float = 0.02,
    noise: float = 0.01,
    seed: int = 0,
) -> ToyData:
    """Each feature fires independently with probability `p_active`, magnitude uniform in
    [0.5, 1.5]; `x = codes @ features + noise * N(0, I)`."""
    if n_features < 1 or d < 1 or n_samples < 1 or not 0 < p_active <= 1 or noise < 0:
        raise ValueError("need positive sizes, 0 < p_active <= 1 and noise >= 0")
    gen = torch.Generator().manual_seed(seed)
    features = torch.randn(n_features, d, generator=gen)
    features /= features.norm(dim=1, keepdim=True)
    fires = torch.rand(n_samples, n_features, generator=gen) < p_active
    magnitudes = 0.5 + torch.rand(n_samples, n_features, generator=gen)
    codes = fires * magnitudes
    x = codes @ features + noise * torch.randn(n_samples, d, generator=gen)
    return ToyData(x, features, codes)
