"""TopK SAE (Gao et al. 2024): keep the k largest ReLU pre-activations per example, with the
AuxK loss that lets dead latents learn to predict the residual."""

import torch
from torch import Tensor

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.sparse_ops import (
    GatheredPreActivations,
    dense_decode,
    rank_latents,
    sparse_decode,
)

AUXK_COEFFICIENT = 1 / 32


def topk_dense(pre: Tensor, k: int) -> Tensor:
    values, indices = pre.relu().topk(k, dim=-1, sorted=False)
    return torch.zeros_like(pre).scatter(-1, indices, values)


class TopKSAE(Dictionary):
    architecture = "topk"
    uses_k = True
    unit_norm_decoder = True
    sparse_backward: bool = True
    """Train with the sparse kernels (False: the dense reference path, for tests)."""
    rank_dtype: torch.dtype | None = None
    """Dtype of the ranking matmul while training (None: the weights'; the trainer sets
    bfloat16 per `TrainConfig.rank_precision`)."""

    def activate(self, pre: Tensor) -> Tensor:
        return topk_dense(pre, self.cfg.k)

    def saelens_config(self) -> dict:
        return super().saelens_config() | {"k": self.cfg.k}

    def _decode_sparse(self, values: Tensor, indices: Tensor) -> Tensor:
        decode = sparse_decode if self.sparse_backward else dense_decode
        return decode(values, indices, self.W_dec)

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        k = self.cfg.k
        x_in = self.encoder_input(x)
        k_aux = self._k_aux(dead_mask)
        ranked = rank_latents(  # the one dense matmul: rank every latent
            x_in.detach(), self.W_enc, self.b_enc, k, dead_mask, k_aux, self.rank_dtype
        )
        top_idx, aux_idx = ranked.indices, ranked.aux_indices
        picked, idx = ranked.joined()
        if self.sparse_backward:
            b_dec = self.b_dec if self.cfg.apply_b_dec_to_input else self.b_dec.detach()
            picked = GatheredPreActivations.apply(
                x_in.detach(), b_dec, self.W_enc, self.b_enc, picked, idx
            )
        else:
            picked = (x_in @ self.W_enc + self.b_enc).gather(-1, idx)
        values = picked[:, :k].relu()
        reconstruction = self._decode_sparse(values, top_idx) + self.b_dec
        mse = squared_error(reconstruction, target)
        losses = {"mse": mse.detach()}
        loss = mse
        if aux_idx is not None:
            residual = (target - reconstruction).detach()
            aux_values = picked[:, k:].relu()
            auxk = squared_error(self._decode_sparse(aux_values, aux_idx), residual)
            scale = min(int(dead_mask.sum()) / aux_idx.shape[1], 1.0)
            loss = loss + AUXK_COEFFICIENT * scale * auxk
            losses["auxk"] = auxk.detach()
        fired = torch.zeros(self.d_sae, dtype=torch.bool, device=x.device)
        fired[top_idx[values > 0]] = True
        l0 = (values > 0).sum(-1).float().mean()
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired, l0)

    def _k_aux(self, dead_mask: Tensor | None) -> int:
        """AuxK's latents per example: up to d_in / 2 of the dead ones (0: none dead)."""
        if dead_mask is None:
            return 0
        return min(self.cfg.d_in // 2, int(dead_mask.sum()))
