"""Active and passive latents of a sparse dictionary (the dictionary analogue of "Be More
Active!", Bonheme & Grzes): which latents are dead, rare or dense on some data, and how much of
the data's variance the reconstruction from each group carries."""

from typing import NamedTuple

import torch
from torch import Tensor

from saekit.sae import Dictionary

RARE = 1e-3
"""Latents firing on fewer than this fraction of rows (but at least once) count as rare."""
DENSE = 0.1
"""Latents firing on more than this fraction of rows count as dense."""


class ActivityReport(NamedTuple):
    density: Tensor
    """`[d_sae]` firing frequency per latent."""
    dead: Tensor
    """`[d_sae]` bool, never fired."""
    rare: Tensor
    dense: Tensor
    variance_explained: dict[str, float]
    """1 - FVU of the reconstruction using only the `active` (not dead), `rare`, `dense` and
    `regular` (neither rare nor dense) latents."""


def _variance_explained(dictionary: Dictionary, latents: Tensor, keep: Tensor, x: Tensor) -> float:
    recon = dictionary.decode(latents * keep)
    total = (x - x.mean(0)).pow(2).sum()
    return float(1 - (x - recon).pow(2).sum() / total.clamp_min(1e-12))


@torch.no_grad()
def dictionary_activity(dictionary: Dictionary, x: Tensor) -> ActivityReport:
    """`x [N, d_in]` activations (e.g. a batch of store rows)."""
    x = x.float()
    latents = dictionary.encode(x)
    density = (latents > 0).float().mean(0)
    dead = density == 0
    rare = (density > 0) & (density < RARE)
    dense = density > DENSE
    groups = {"active": ~dead, "rare": rare, "dense": dense, "regular": ~dead & ~rare & ~dense}
    explained = {
        name: _variance_explained(dictionary, latents, mask.float(), x)
        for name, mask in groups.items()
    }
    return ActivityReport(density, dead, rare, dense, explained)
