"""BatchTopK SAE (Bussmann et al. 2024): keep the `k * batch` largest activations across the
whole batch. A running average of the smallest kept activation becomes a global threshold, so
at inference the dictionary is a JumpReLU and is saved as SAELens `jumprelu`."""

import torch
from torch import Tensor

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig
from saekit.sae.jumprelu import jumprelu
from saekit.sae.topk import AUXK_COEFFICIENT


def batch_topk(pre: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Latents keeping the `k * batch` largest ReLU activations of the batch, and the smallest
    kept positive value (NaN when none is positive)."""
    acts = pre.relu()
    flat = acts.flatten()
    values, indices = flat.topk(min(k * pre.shape[0], flat.numel()), sorted=False)
    latents = torch.zeros_like(flat).scatter(0, indices, values).view_as(pre)
    positive = values[values > 0]
    smallest = positive.min() if positive.numel() else pre.new_tensor(float("nan"))
    return latents, smallest


class BatchTopKSAE(Dictionary):
    architecture = "batchtopk"
    unit_norm_decoder = True

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        self.register_buffer("threshold", torch.full((cfg.d_sae,), -1.0))
        """Running inference threshold (-1 until the first training batch)."""

    def activate(self, pre: Tensor) -> Tensor:
        return jumprelu(pre, self.threshold)

    def train_latents(self, pre: Tensor) -> Tensor:
        """BatchTopK selection; updates the running threshold (the smallest kept activation
        may be gathered across ranks by the trainer before the update)."""
        latents, smallest = batch_topk(pre, self.cfg.k)
        self.update_threshold(smallest.detach())
        return latents

    @torch.no_grad()
    def update_threshold(self, smallest: Tensor) -> None:
        if torch.isnan(smallest):
            return
        if bool((self.threshold < 0).all()):
            self.threshold.fill_(float(smallest))
        else:
            m = self.cfg.threshold_momentum
            self.threshold.mul_(m).add_((1 - m) * smallest)

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        pre = self.pre_activations(x)
        latents = self.train_latents(pre)
        reconstruction = self.decode(latents)
        loss, losses = self.reconstruction_losses(latents, reconstruction, target)
        auxk = self.auxk_loss(pre, target - reconstruction.detach(), dead_mask)
        if auxk is not None:
            loss = loss + auxk
            losses["auxk"] = auxk.detach()
        fired, l0 = self.fired_and_l0(latents.detach())
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)

    def reconstruction_losses(self, latents, reconstruction, target):
        mse = squared_error(reconstruction, target)
        return mse, {"mse": mse.detach()}

    def auxk_loss(self, pre: Tensor, residual: Tensor, dead_mask: Tensor | None):
        if dead_mask is None or not bool(dead_mask.any()):
            return None
        n_dead = int(dead_mask.sum())
        k_aux = min(self.cfg.d_in // 2, n_dead)
        masked = pre.masked_fill(~dead_mask, float("-inf"))
        values, indices = masked.topk(k_aux, dim=-1, sorted=False)
        aux_latents = torch.zeros_like(pre).scatter(-1, indices, values.relu())
        error = squared_error(aux_latents @ self.W_dec, residual.detach())
        return AUXK_COEFFICIENT * min(n_dead / k_aux, 1.0) * error

    def inference_state(self) -> tuple[str, dict[str, Tensor]]:
        _, state = super().inference_state()
        return "jumprelu", state
