"""TopK SAE (Gao et al. 2024): keep the k largest ReLU pre-activations per example, with the
AuxK loss that lets dead latents learn to predict the residual."""

from typing import NamedTuple

import torch
from torch import Tensor

from saekit.sae.base import Dictionary, TrainStepOutput, squared_error
from saekit.sae.kernels.auxk_fused import AuxKCode, fused_auxk_loss
from saekit.sae.kernels.sparse_ops import (
    GatheredPreActivations,
    LatentMajor,
    Ranked,
    dense_decode,
    rank_latents,
    sparse_decode,
)

AUXK_COEFFICIENT = 1 / 32


def topk_dense(pre: Tensor, k: int) -> Tensor:
    values, indices = pre.relu().topk(k, dim=-1, sorted=False)
    return torch.zeros_like(pre).scatter(-1, indices, values)


class DecodedCode(NamedTuple):
    decoded: Tensor
    """`[batch, d_out]` the code decoded, without `b_dec`."""
    values: Tensor
    """`[batch, k]` the code's values (pre-activations through the ReLU)."""


class TopKSAE(Dictionary):
    architecture = "topk"
    uses_k = True
    unit_norm_decoder = True
    counts_firings = True
    supports_skip = True
    sparse_backward: bool = True
    """Train with the sparse kernels (False: the dense reference path, for tests)."""
    fused_auxk: bool = True
    """Compute AuxK with the compiled kernel where it serves (`saekit.sae.kernels.auxk_fused`;
    False: the autograd path, its reference)."""
    rank_dtype: torch.dtype | None = None
    """Dtype of the ranking matmul while training (None: the weights'; the trainer sets
    bfloat16 per `TrainConfig.rank_precision`)."""

    def activate(self, pre: Tensor) -> Tensor:
        return topk_dense(pre, self.cfg.k)

    def saelens_config(self) -> dict:
        return super().saelens_config() | {"k": self.cfg.k}

    def training_loss(self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None):
        k = self.cfg.k
        x_in = self.encoder_input(x)
        k_aux = self._k_aux(dead_mask)
        aux_rows = self._aux_rows(x.shape[0], k, k_aux)
        ranked = rank_latents(  # the one dense matmul: rank every latent
            x_in.detach(),
            self.W_enc,
            self.b_enc,
            k,
            dead_mask,
            k_aux,
            self.rank_dtype,
            aux_rows=aux_rows,
        )
        decoded, values = self._decode_code(x_in, ranked.values, ranked.indices)
        reconstruction = decoded + self.b_dec + self.skip_term(x)
        mse = squared_error(reconstruction, target)
        losses = {"mse": mse.detach()}
        loss = mse
        if ranked.aux_indices is not None:
            auxk = self._auxk_loss(x_in, target, reconstruction.detach(), ranked, aux_rows)
            scale = k_aux / self._k_aux_cap  # min(dead / cap, 1), as Gao et al.
            loss = loss + AUXK_COEFFICIENT * scale * auxk
            losses["auxk"] = auxk.detach()
        fired = self._firings(ranked.indices, values.detach())
        l0 = fired.sum() / values.shape[0]  # active entries per row
        firings = fired
        if ranked.aux_indices is not None:
            firings = fired + self._firings(ranked.aux_indices, ranked.aux_values.detach())
        return TrainStepOutput(loss, losses, reconstruction.detach(), fired > 0, l0, firings)

    def _firings(self, indices: Tensor, values: Tensor) -> Tensor:
        """`[d_sae]` how many rows of a code each latent is active on (its value > 0): one
        scatter-add (6-10x faster on the CPU than indexing a mask with the positive entries)."""
        active = (values > 0).float().reshape(-1)
        return active.new_zeros(self.d_sae).index_add_(0, indices.reshape(-1), active)

    def _auxk_loss(
        self, x_in: Tensor, target: Tensor, reconstruction: Tensor, ranked: Ranked, rows: slice
    ) -> Tensor:
        """AuxK: how well the top dead latents of the sampled `rows` predict the residual;
        the mean over the global batch's sampled rows once the ranks' gradients are averaged."""
        residual = target[rows] - reconstruction[rows]
        aux_x = x_in[rows].contiguous()  # every stride-th row: a strided view
        global_rows = len(range(x_in.shape[0] * self.distributed.world)[:: rows.step])
        share = self.distributed.world / global_rows
        if self.sparse_backward and self.fused_auxk:
            code = AuxKCode(aux_x, ranked.aux_values, ranked.aux_indices, residual)
            b_dec = self.b_dec if self.cfg.apply_b_dec_to_input else self.b_dec.detach()
            fused = fused_auxk_loss(code, self.W_enc, self.b_enc, self.W_dec, b_dec, share)
            if fused is not None:
                return fused
        aux_decoded, _ = self._decode_code(aux_x, ranked.aux_values, ranked.aux_indices)
        return (aux_decoded - residual).pow(2).sum() * share

    def _decode_code(self, x_in: Tensor, exact: Tensor, indices: Tensor) -> DecodedCode:
        """Decode the code at `indices` whose pre-activations `exact` were already computed,
        with gradients to the encoder and the decoder."""
        if not self.sparse_backward:
            values = (x_in @ self.W_enc + self.b_enc).gather(-1, indices).relu()
            return DecodedCode(dense_decode(values, indices, self.W_dec), values)
        code = LatentMajor.of(indices, self.d_sae)  # one layout for both weight gradients
        b_dec = self.b_dec if self.cfg.apply_b_dec_to_input else self.b_dec.detach()
        picked = GatheredPreActivations.apply(
            x_in.detach(), b_dec, self.W_enc, self.b_enc, exact, code
        )
        values = picked.relu()
        return DecodedCode(sparse_decode(values, indices, self.W_dec, code), values)

    def _aux_rows(self, batch: int, k: int, k_aux: int) -> slice:
        """This rank's rows (of its `batch`) among every `auxk_stride`-th row of the global
        batch, so that N ranks train AuxK on the rows one process would."""
        stride = auxk_stride(k, k_aux)
        first_global_row = self.distributed.rank * batch  # ranks hold equal slices, in order
        return slice(-first_global_row % stride, None, stride)

    def _k_aux(self, dead_mask: Tensor | None) -> int:
        """AuxK's latents per example: up to d_in / 2 of the dead ones (0: none dead)."""
        if dead_mask is None:
            return 0
        return min(self._k_aux_cap, int(dead_mask.sum()))

    @property
    def _k_aux_cap(self) -> int:
        return self.cfg.d_in // 2


def auxk_stride(k: int, k_aux: int) -> int:
    """AuxK is computed on every `k_aux // k`-th row of the global batch, so that its code holds
    about as many entries as the main one and costs no more than it; batches come shuffled, so
    these rows are a random sample (the evidence: docs/training.md)."""
    return max(1, k_aux // k)
