"""BatchTopK SAE (Bussmann et al. 2024): keep the `k * batch` largest activations across the
whole batch. A running average of the smallest kept activation becomes a global threshold, so
at inference the dictionary is a JumpReLU and is saved as SAELens `jumprelu`."""

import torch
from torch import Tensor

from saekit.distributed import SINGLE_PROCESS, Distributed
from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.config import DictionaryConfig
from saekit.sae.jumprelu import jumprelu
from saekit.sae.topk import AUXK_COEFFICIENT


def batch_topk(
    pre: Tensor, k: int, distributed: Distributed = SINGLE_PROCESS
) -> tuple[Tensor, Tensor]:
    """Keep the `k * global_batch` largest ReLU activations of the (global) batch.

    Each rank offers its largest candidates; the smallest of the global top `k * global_batch`
    becomes the cut-off, so every rank selects exactly what one process holding the whole batch
    would. Returns the latents and the smallest kept positive activation (NaN if none)."""
    acts = pre.relu()
    flat = acts.flatten()
    keep = k * pre.shape[0] * distributed.world
    local = flat.topk(min(keep, flat.numel()), sorted=False).values
    candidates = distributed.gather(local)
    kept = candidates.topk(min(keep, candidates.numel()), sorted=False).values
    positive = kept[kept > 0]
    if positive.numel() == 0:
        return torch.zeros_like(acts), pre.new_tensor(float("nan"))
    cutoff = positive.min()
    return acts * (acts >= cutoff), cutoff


class BatchTopKSAE(Dictionary):
    architecture = "batchtopk"
    config_fields = ("threshold_momentum",)
    uses_k = True
    saved_as = "jumprelu"
    unit_norm_decoder = True

    def __init__(self, cfg: DictionaryConfig):
        super().__init__(cfg)
        self.register_buffer("threshold", torch.full((cfg.d_sae,), -1.0))  # cpu: built, then moved
        """Running inference threshold (-1 until the first training batch)."""

    def activate(self, pre: Tensor) -> Tensor:
        return jumprelu(pre, self.threshold)

    def train_latents(self, pre: Tensor) -> Tensor:
        """BatchTopK selection over the global batch; updates the running threshold."""
        latents, smallest = batch_topk(pre, self.cfg.k, self.distributed)
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
