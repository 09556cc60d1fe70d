"""Train a reference autoencoder on images drawn fresh from a dSprites-like generator."""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from saekit.analysis.factor_data.dsprites import DSprites
from saekit.analysis.reference_models.autoencoders import (
    AE,
    QLAE,
    BetaVAE,
    ReferenceAutoencoder,
)

QLAE_WEIGHT_DECAY = 0.1
"""AdamW weight decay the QLAE authors use; the AE and VAE baselines use none."""


@dataclass
class ReferenceTrainConfig:
    model: Literal["ae", "beta_vae", "qlae"] = "qlae"
    n_latents: int = 10
    """Bottleneck width (the QLAE paper uses twice the number of factors: 10 for dSprites)."""
    hidden: int = 256
    """Width of the two hidden layers of the encoder and of the decoder."""
    steps: int = 5000
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 4.0
    """KL weight of the beta-VAE."""
    n_values: int = 10
    """Values per latent of the QLAE."""
    weight_decay: float | None = None
    """AdamW weight decay; None = 0.1 for the QLAE and 0 for the others."""
    seed: int = 0

    def __post_init__(self):
        if self.model not in ("ae", "beta_vae", "qlae"):
            raise ValueError(f"model must be 'ae', 'beta_vae' or 'qlae', got {self.model!r}")
        if min(self.n_latents, self.hidden, self.steps, self.batch_size) < 1:
            raise ValueError("n_latents, hidden, steps and batch_size must be positive")


class TrainedReference(NamedTuple):
    model: ReferenceAutoencoder
    reconstruction: list[float]
    """Mean per-pixel BCE of each training batch."""


def build_reference(cfg: ReferenceTrainConfig, n_pixels: int) -> ReferenceAutoencoder:
    if cfg.model == "beta_vae":
        return BetaVAE(n_pixels, cfg.n_latents, cfg.hidden, beta=cfg.beta)
    if cfg.model == "qlae":
        return QLAE(n_pixels, cfg.n_latents, cfg.hidden, n_values=cfg.n_values)
    return AE(n_pixels, cfg.n_latents, cfg.hidden)


def train_reference(
    cfg: ReferenceTrainConfig, data: DSprites, progress: bool = True
) -> TrainedReference:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_reference(cfg, data.size * data.size)
    decay = cfg.weight_decay
    if decay is None:
        decay = QLAE_WEIGHT_DECAY if cfg.model == "qlae" else 0.0
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=decay)
    history = []
    for _ in tqdm(range(cfg.steps), desc=f"train {cfg.model}", disable=not progress):
        images = torch.from_numpy(data.sample(cfg.batch_size, rng).images)
        out = model.loss(images)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        history.append(float(out.reconstruction))
    return TrainedReference(model.eval(), history)
