"""Gated SAE (Rajamanoharan et al. 2024): a gate path decides which latents fire, a magnitude
path (the same encoder directions, rescaled by `exp(r_mag)`) decides how strongly.

Both paths share `x @ W_enc`, so the magnitudes follow from the gate's pre-activations alone:
`mag = exp(r_mag) * (gate_pre - b_gate) + b_mag`, and `activate(pre_activations(x))` is the
full encoder like every other dictionary's."""

import torch
from torch import Tensor, nn

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig


class GatedSAE(Dictionary):
    architecture = "gated"
    config_fields = ("l1_coefficient",)

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        del self.b_enc
        self.b_gate = nn.Parameter(torch.zeros(cfg.d_sae))  # cpu: built, then moved
        self.r_mag = nn.Parameter(torch.zeros(cfg.d_sae))  # cpu: built, then moved
        self.b_mag = nn.Parameter(torch.zeros(cfg.d_sae))  # cpu: built, then moved

    def pre_activations(self, x: Tensor) -> Tensor:
        """The gate path's pre-activations."""
        return self.encoder_input(x) @ self.W_enc + self.b_gate

    def activate(self, pre: Tensor) -> Tensor:
        """Gate pre-activations -> latents: open gates times the ReLU'd magnitudes."""
        magnitudes = (self.r_mag.exp() * (pre - self.b_gate) + self.b_mag).relu()
        return (pre > 0) * magnitudes

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        latents, gate_pre = self.encode_with_pre(x)
        reconstruction = self.decode(latents)
        mse = squared_error(reconstruction, target)
        gate = gate_pre.relu()
        l1 = (gate * self.decoder_norms()).sum(-1).mean()
        aux = squared_error(gate @ self.W_dec.detach() + self.b_dec.detach(), target)
        loss = mse + self.cfg.l1_coefficient * l1 + aux
        fired, l0 = self.fired_and_l0(latents.detach())
        losses = {"mse": mse.detach(), "l1": l1.detach(), "gate_aux": aux.detach()}
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)
