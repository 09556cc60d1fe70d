"""Sparse kernels for the TopK family, each with a plain dense reference beside it.

Training a TopK dictionary needs one dense matmul (the encoder's forward pass, to rank the
latents), which with the `topk` after it is ~90 % of a CPU training step. `rank_latents` may do
it in bfloat16 where the CPU multiplies bfloat16 natively (AMX / AVX512-BF16: 3.6x the float32
matmul rate on this project's CPU); everything after it touches only the selected latents: the
gradient of the encoder reaches `k` columns per example, and the decoder reads `k` rows per
example.
"""

import warnings
from functools import cache
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

SHORTLIST_MARGIN = 0.5
"""bfloat16 ranking shortlists k * (1 + this) latents before exact re-ranking."""


@cache
def native_bf16_matmul() -> bool:
    """Whether this machine's CPU multiplies bfloat16 natively (Linux CPU flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


class Ranked(NamedTuple):
    values: Tensor
    """`[batch, k]` the top pre-activations (not yet through the ReLU), float32."""
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


@torch.no_grad()
def rank_latents(
    x_in: Tensor,
    W_enc: Tensor,
    b_enc: Tensor,
    k: int,
    dead_mask: Tensor | None = None,
    k_aux: int = 0,
    dtype: torch.dtype | None = None,
) -> Ranked:
    """The top-`k` latents of `x_in @ W_enc + b_enc` per row (and the top `k_aux` among the
    `dead_mask` latents), with their exact (float32) pre-activations.

    `dtype=torch.bfloat16` shortlists `k * 1.5` candidates from a bfloat16 matmul, computes
    their exact values (a sampled matmul over the shortlist only) and keeps the top `k` of them:
    the same latents as the float32 ranking unless more than `k / 2` latents lie within
    bfloat16's rounding (2**-9, relative) of the `k`-th (tested against the reference)."""
    if dtype is None:
        pre = torch.addmm(b_enc, x_in, W_enc)
        values, indices = pre.topk(k, dim=-1, sorted=False)
        aux = _aux_top(pre, dead_mask, k_aux)
        return Ranked(values, indices, *(aux or (None, None)))
    rough = torch.addmm(b_enc.to(dtype), x_in.to(dtype), W_enc.to(dtype))
    shortlist = rough.topk(
        min(k + int(k * SHORTLIST_MARGIN), W_enc.shape[1]), dim=-1, sorted=False
    ).indices
    exact = exact_pre_activations(x_in, W_enc, b_enc, shortlist)
    values, picked = exact.topk(k, dim=-1, sorted=False)
    aux = _aux_top(rough, dead_mask, k_aux)
    if aux is not None:
        aux = (exact_pre_activations(x_in, W_enc, b_enc, aux[1]), aux[1])
    return Ranked(values, shortlist.gather(-1, picked), *(aux or (None, None)))


def _aux_top(pre: Tensor, dead_mask: Tensor | None, k_aux: int) -> tuple[Tensor, Tensor] | None:
    """The top `k_aux` among the dead latents (AuxK's), or None when none is asked for."""
    if k_aux == 0 or dead_mask is None:
        return None
    return tuple(pre.masked_fill_(~dead_mask, float("-inf")).topk(k_aux, dim=-1, sorted=False))


def exact_pre_activations(x_in: Tensor, W_enc: Tensor, b_enc: Tensor, indices: Tensor) -> Tensor:
    """`(x_in @ W_enc + b_enc).gather(-1, indices)` computing only those entries (a sampled
    dense-dense matmul over the pattern of `indices`)."""
    n, per_row = indices.shape
    order = indices.argsort(-1)
    columns = indices.gather(-1, order)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        pattern = torch.sparse_csr_tensor(
            torch.arange(0, n * per_row + 1, per_row, device=x_in.device),
            columns.reshape(-1),
            x_in.new_zeros(n * per_row),
            (n, W_enc.shape[1]),
            check_invariants=False,
        )
        sampled = torch.sparse.sampled_addmm(pattern, x_in, W_enc, beta=0.0)
    values = sampled.values().view(n, per_row) + b_enc[columns]
    return torch.empty_like(values).scatter_(-1, order, values)


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
