"""Sparse kernels for the TopK family, each with a plain dense reference beside it.

Training a TopK dictionary needs one dense matmul (the encoder's forward pass, to rank the
latents). `rank_latents` does it in row blocks, selecting each block's top latents while its
pre-activations are still in cache (the full `[batch, d_sae]` matrix is never written);
everything after it touches only the selected latents: the gradient of the encoder reaches `k`
columns per example, and the decoder reads `k` rows per example.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

BLOCK_BYTES = 1 << 21
"""Pre-activations per row block of `rank_latents`: about a core's L2 cache."""


class Ranked(NamedTuple):
    values: Tensor
    """`[batch, k]` the top pre-activations (not yet through the ReLU)."""
    indices: Tensor
    aux_values: Tensor | None
    """`[batch, k_aux]` the top pre-activations among the dead latents (AuxK), if asked for."""
    aux_indices: Tensor | None

    def joined(self) -> tuple[Tensor, Tensor]:
        """Values and indices of the top latents followed by the AuxK ones."""
        if self.aux_indices is None:
            return self.values, self.indices
        return (
            torch.cat([self.values, self.aux_values], -1),
            torch.cat([self.indices, self.aux_indices], -1),
        )


def _top(pre: Tensor, k: int, dead_mask: Tensor | None, k_aux: int) -> list[Tensor]:
    values, indices = pre.topk(k, dim=-1, sorted=False)
    if k_aux == 0 or dead_mask is None:
        return [values, indices]
    masked = pre.masked_fill(~dead_mask, float("-inf"))
    return [values, indices, *masked.topk(k_aux, dim=-1, sorted=False)]


@torch.no_grad()
def rank_latents(
    x_in: Tensor,
    W_enc: Tensor,
    b_enc: Tensor,
    k: int,
    dead_mask: Tensor | None = None,
    k_aux: int = 0,
    block_rows: int | None = None,
) -> Ranked:
    """The top-`k` latents of `x_in @ W_enc + b_enc` per row (and the top `k_aux` among the
    `dead_mask` latents), computed a row block at a time."""
    rows = block_rows or max(64, BLOCK_BYTES // (4 * W_enc.shape[1]))
    blocks = [
        _top(torch.addmm(b_enc, x_in[start : start + rows], W_enc), k, dead_mask, k_aux)
        for start in range(0, x_in.shape[0], rows)
    ]
    parts = [torch.cat(part) for part in zip(*blocks, strict=True)]
    return Ranked(*parts, *[None] * (4 - len(parts)))


@torch.no_grad()
def rank_latents_dense(
    x_in: Tensor,
    W_enc: Tensor,
    b_enc: Tensor,
    k: int,
    dead_mask: Tensor | None = None,
    k_aux: int = 0,
) -> Ranked:
    """Reference for `rank_latents`: the whole pre-activation matrix, then `topk`."""
    parts = _top(torch.addmm(b_enc, x_in, W_enc), k, dead_mask, k_aux)
    return Ranked(*parts, *[None] * (4 - len(parts)))


class GatheredPreActivations(torch.autograd.Function):
    """`picked`, the pre-activations `(x - b_dec) @ W_enc + b_enc` at `indices`, computed
    without grad; backward reaches only the gathered encoder columns (O(batch * k * d_in)). The
    input is data, so of its gradient only the batch sum is needed, for `b_dec`:
    `-W_enc @ grad_b_enc`."""

    @staticmethod
    def forward(
        ctx,
        x_in: Tensor,
        b_dec: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        picked: Tensor,
        indices: Tensor,
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc, indices)
        return picked.clone()

    @staticmethod
    def backward(ctx, grad: Tensor):
        x_in, W_enc, indices = ctx.saved_tensors
        grad, x_in = grad.to(W_enc.dtype), x_in.to(W_enc.dtype)  # autocast may hand us bf16
        n, k = indices.shape
        d_sae = W_enc.shape[1]
        flat_idx = indices.reshape(-1)
        grad_b_enc = torch.zeros(d_sae, dtype=grad.dtype, device=grad.device)
        grad_b_enc.index_add_(0, flat_idx, grad.reshape(-1))
        rows = torch.arange(n, device=grad.device).repeat_interleave(k)
        coo = torch.sparse_coo_tensor(
            torch.stack([flat_idx, rows]), grad.reshape(-1), (d_sae, n), check_invariants=False
        )
        grad_W_enc = torch.sparse.mm(coo, x_in).T  # [d_in, d_sae]
        grad_b_dec = -(W_enc @ grad_b_enc) if ctx.needs_input_grad[1] else None
        return None, grad_b_dec, grad_W_enc, grad_b_enc, None, None


def sparse_decode(values: Tensor, indices: Tensor, W_dec: Tensor) -> Tensor:
    """`sum_j values[:, j] * W_dec[indices[:, j]]` without building dense latents."""
    return F.embedding_bag(indices, W_dec, per_sample_weights=values.to(W_dec.dtype), mode="sum")


def dense_decode(values: Tensor, indices: Tensor, W_dec: Tensor) -> Tensor:
    """Reference for `sparse_decode`: scatter to dense latents, then one matmul."""
    dense = values.new_zeros(values.shape[0], W_dec.shape[0]).scatter(-1, indices, values)
    return dense @ W_dec
