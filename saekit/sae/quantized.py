"""Latent quantization (Hsu et al. 2023, "Disentanglement via Latent Quantization"): each
latent dimension has its own small learnable scalar codebook; latents snap to the nearest value
(straight-through), with a quantization loss that moves the values and a commitment loss that
moves the encoder. The QLAE is an autoencoder with this bottleneck, trained with strong weight
decay (`default_weight_decay`, used when the training config leaves `weight_decay` unset)."""

from typing import NamedTuple

import torch
from torch import Tensor, nn

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig

DEFAULT_COMMITMENT = 0.1


class Quantized(NamedTuple):
    values: Tensor
    """`[..., n_latents]` quantized latents; the gradient passes straight through to the input."""
    indices: Tensor
    """`[..., n_latents]` index of each latent's value in its codebook (the discrete code)."""
    quantization_loss: Tensor
    """Mean squared distance from the (detached) inputs to their values: trains the values."""
    commitment_loss: Tensor
    """Mean squared distance from the inputs to their (detached) values: trains the encoder."""


class LatentQuantizer(nn.Module):
    """A scalar codebook of `n_values` per latent, initialised evenly on [low, high]."""

    def __init__(self, n_latents: int, n_values: int = 10, low: float = -1.0, high: float = 1.0):
        super().__init__()
        if n_values < 2:
            raise ValueError(f"a latent codebook needs >= 2 values, got {n_values}")
        self.values = nn.Parameter(
            torch.linspace(low, high, n_values).repeat(n_latents, 1)
        )  # cpu: moved

    def forward(self, z: Tensor) -> Quantized:
        if z.shape[-1] != self.values.shape[0]:
            raise ValueError(f"expected {self.values.shape[0]} latents, got {z.shape[-1]}")
        distance = (z.detach()[..., None] - self.values).pow(2)
        indices = distance.argmin(-1)
        chosen = self.values.expand(*z.shape, -1).gather(-1, indices[..., None]).squeeze(-1)
        return Quantized(
            values=z + (chosen - z).detach(),
            indices=indices,
            quantization_loss=(z.detach() - chosen).pow(2).mean(),
            commitment_loss=(z - chosen.detach()).pow(2).mean(),
        )


class QLAE(Dictionary):
    """Linear encoder -> LatentQuantizer -> linear decoder. `d_sae` is the number of latents."""

    architecture = "qlae"
    config_fields = ("quantizer_values", "commitment_coefficient")
    default_weight_decay = 0.1
    native_codes = "quantized"

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        self.quantizer = LatentQuantizer(cfg.d_sae, cfg.quantizer_values)

    def commitment(self) -> float:
        c = self.cfg.commitment_coefficient
        return DEFAULT_COMMITMENT if c is None else c

    def activate(self, pre: Tensor) -> Tensor:
        return self.quantizer(pre).values

    def code_indices(self, x: Tensor) -> Tensor:
        """`[..., n_latents]` the discrete code of each input."""
        with torch.no_grad():
            return self.quantizer(self.pre_activations(x)).indices

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        q = self.quantizer(self.pre_activations(x))
        reconstruction = self.decode(q.values)
        mse = squared_error(reconstruction, target)
        loss = mse + q.quantization_loss + self.commitment() * q.commitment_loss
        fired, l0 = self.fired_and_l0(q.values.detach().abs())
        losses = {
            "mse": mse.detach(),
            "quantization": q.quantization_loss.detach(),
            "commitment": q.commitment_loss.detach(),
        }
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)
