"""Toy model of superposition (Elhage et al. 2022): many more true unit directions than
dimensions, each firing sparsely with a random magnitude, plus noise. The true directions are
known, so a dictionary's recovery of them can be measured."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

TOY_STREAM = 0x70C5EED
CHUNK = 16_384


@dataclass(frozen=True)
class ToyData:
    x: Tensor
    """`[n_samples, d]` observed vectors."""
    features: Tensor
    """`[n_features, d]` the true unit directions."""
    codes: Tensor
    """`[n_samples, n_features]` the true sparse coefficients (a sparse COO tensor)."""


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
    # a stream of its own: with torch's global seed, a dictionary initialised from
    # torch.randn would otherwise start exactly at the true features
    gen = torch.Generator().manual_seed(TOY_STREAM + seed)
    features = torch.randn(n_features, d, generator=gen)
    features /= features.norm(dim=1, keepdim=True)
    x, codes = [], []
    for start in range(0, n_samples, CHUNK):  # bounded memory for large sets
        n = min(CHUNK, n_samples - start)
        fires = torch.rand(n, n_features, generator=gen) < p_active
        chunk = fires * (0.5 + torch.rand(n, n_features, generator=gen))
        x.append(chunk @ features + noise * torch.randn(n, d, generator=gen))
        codes.append(chunk.to_sparse())
    return ToyData(torch.cat(x), features, torch.cat(codes))


def toy_factors(data: ToyData, levels: int = 4) -> np.ndarray:
    """`[n_samples, n_features]` the true features as discrete factors for the disentanglement
    metrics: 0 where a feature is off, else its magnitude (in [0.5, 1.5]) binned into `levels`
    equal bins numbered 1..levels."""
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    codes = data.codes.coalesce()
    rows, cols = codes.indices().numpy()
    magnitude = codes.values().numpy()
    out = np.zeros(codes.shape, dtype=np.int64)
    out[rows, cols] = 1 + np.clip(((magnitude - 0.5) * levels).astype(np.int64), 0, levels - 1)
    return out
