"""Comparing latent spaces: relative representations (Moschella et al. 2023), linear CKA
(Kornblith et al. 2019), and dictionary feature matching (max cosine, Hungarian assignment)."""

from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor


def _tensor(x) -> Tensor:
    return (
        x.detach().float().cpu()
        if isinstance(x, Tensor)
        else torch.as_tensor(np.asarray(x), dtype=torch.float32)
    )


def relative_representation(latents, anchors) -> Tensor:
    """Cosine similarity of every sample `[N, L]` to every anchor `[A, L]`: `[N, A]`."""
    z, a = _tensor(latents), _tensor(anchors)
    if z.shape[1] != a.shape[1]:
        raise ValueError(f"latents have width {z.shape[1]}, anchors {a.shape[1]}")
    return torch.nn.functional.normalize(z, dim=1) @ torch.nn.functional.normalize(a, dim=1).T


def relative_similarity(latents_a, latents_b, n_anchors: int = 256, seed: int = 0) -> float:
    """Mean cosine between the two spaces' relative representations of the same inputs, with
    the same randomly chosen inputs as anchors (spaces of any widths)."""
    a, b = _tensor(latents_a), _tensor(latents_b)
    if a.shape[0] != b.shape[0]:
        raise ValueError("both latent spaces must describe the same inputs (same N)")
    idx = torch.randperm(a.shape[0], generator=torch.Generator().manual_seed(seed))[:n_anchors]
    ra, rb = relative_representation(a, a[idx]), relative_representation(b, b[idx])
    return float(torch.nn.functional.cosine_similarity(ra, rb, dim=1).mean())


def linear_cka(latents_a, latents_b) -> float:
    """Linear centred kernel alignment between two representations of the same inputs."""
    a, b = _tensor(latents_a).double(), _tensor(latents_b).double()
    if a.shape[0] != b.shape[0]:
        raise ValueError("both latent spaces must describe the same inputs (same N)")
    a, b = a - a.mean(0), b - b.mean(0)
    cross = (a.T @ b).pow(2).sum()
    return float(cross / ((a.T @ a).pow(2).sum().sqrt() * (b.T @ b).pow(2).sum().sqrt()))


class FeatureMatch(NamedTuple):
    mmcs: float
    """Mean over A's features of the best cosine with any of B's."""
    hungarian_mean_cosine: float
    """Mean cosine of a one-to-one assignment of A's features to B's (Hungarian)."""
    assignment: Tensor
    """`[min(n_a, n_b), 2]` matched (A index, B index) pairs."""


def match_features(decoder_a, decoder_b) -> FeatureMatch:
    """Compare two dictionaries by their decoder directions `[n, d]`."""
    a = torch.nn.functional.normalize(_tensor(decoder_a), dim=1)
    b = torch.nn.functional.normalize(_tensor(decoder_b), dim=1)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"decoders live in different spaces: d={a.shape[1]} vs d={b.shape[1]}")
    cos = a @ b.T
    rows, cols = linear_sum_assignment(-cos.numpy())
    pairs = torch.as_tensor(np.stack([rows, cols], axis=1))
    return FeatureMatch(float(cos.max(dim=1).values.mean()), float(cos[rows, cols].mean()), pairs)
