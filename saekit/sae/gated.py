"""Gated SAE (Rajamanoharan et al. 2024): a gate path decides which latents fire, a magnitude
path (the same encoder directions, rescaled by `exp(r_mag)`) decides how strongly."""

import torch
from torch import Tensor, nn

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig


class GatedSAE(Dictionary):
    architecture = "gated"

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        del self.b_enc
        self.b_gate = nn.Parameter(torch.zeros(cfg.d_sae))
        self.r_mag = nn.Parameter(torch.zeros(cfg.d_sae))
        self.b_mag = nn.Parameter(torch.zeros(cfg.d_sae))

    def pre_activations(self, x: Tensor) -> Tensor:
        """The gate path's pre-activations."""
        return self.encoder_input(x) @ self.W_enc + self.b_gate

    def _magnitudes(self, x: Tensor) -> Tensor:
        return (self.encoder_input(x) @ (self.W_enc * self.r_mag.exp()) + self.b_mag).relu()

    def activate(self, pre: Tensor) -> Tensor:
        raise TypeError("a gated SAE's latents need its input too: call encode(x)")

    def encode_with_pre(self, x: Tensor) -> tuple[Tensor, Tensor]:
        gate_pre = self.pre_activations(x)
        return (gate_pre > 0) * self._magnitudes(x), gate_pre

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
