"""Active and passive latents ("Be More Active!", Bonheme & Grzes 2022). For VAEs: the passive
variables (per-dimension KL to the prior near zero) and how the correlation structure of the mean
and of the sampled representations changes with and without them. For sparse dictionaries, the
analogue: which latents are dead, rare or dense on some data, and how much of the data's variance
the reconstruction from each group carries."""

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


PASSIVE_KL = 0.01
"""Dimensions whose mean KL to the prior (nats) is below this are passive."""


class VAEActivityReport(NamedTuple):
    kl: Tensor
    """`[L]` mean KL(q(z_i | x) || N(0, 1)) per dimension."""
    passive: Tensor
    """`[L]` bool, KL below the threshold."""
    correlation: dict[str, float]
    """Mean absolute off-diagonal Pearson correlation of the `mean` and `sampled`
    representations over all dimensions, and over the active ones only (`mean_active`,
    `sampled_active`)."""


def kl_to_prior(mean: Tensor, logvar: Tensor) -> Tensor:
    """Elementwise KL(N(mean, exp(logvar)) || N(0, 1)) in nats."""
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1)


def mean_abs_correlation(z: Tensor) -> float:
    """Mean |Pearson correlation| over pairs of distinct dimensions with non-zero variance."""
    if z.shape[1] >= 2:
        z = z[:, z.std(0) > 0].double()
    if z.shape[1] < 2:
        return 0.0
    corr = torch.corrcoef(z.T)
    off = ~torch.eye(len(corr), dtype=torch.bool)
    return float(corr[off].abs().mean())


@torch.no_grad()
def vae_activity(
    mean: Tensor, logvar: Tensor, threshold: float = PASSIVE_KL, seed: int = 0
) -> VAEActivityReport:
    """`mean`, `logvar` `[N, L]`: the encoder's posterior over N inputs."""
    if mean.shape != logvar.shape or mean.ndim != 2 or len(mean) < 2:
        raise ValueError(
            f"expected mean and logvar of the same shape [N >= 2, L], got "
            f"{tuple(mean.shape)} and {tuple(logvar.shape)}"
        )
    kl = kl_to_prior(mean, logvar).mean(0)
    passive = kl < threshold
    noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(seed))
    sampled = mean + noise * (0.5 * logvar).exp()
    active = ~passive
    correlation = {
        "mean": mean_abs_correlation(mean),
        "sampled": mean_abs_correlation(sampled),
        "mean_active": mean_abs_correlation(mean[:, active]),
        "sampled_active": mean_abs_correlation(sampled[:, active]),
    }
    return VAEActivityReport(kl, passive, correlation)
