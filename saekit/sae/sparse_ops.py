"""Sparse kernels for the TopK family, each with a plain dense reference beside it.

Training a TopK dictionary needs one dense matmul (the encoder's forward pass, to rank the
latents). Everything after it touches only the selected latents: the gradient of the encoder
reaches `k` columns per example, and the decoder reads `k` rows per example.
"""

import torch
import torch.nn.functional as F
from torch import Tensor


class GatheredPreActivations(torch.autograd.Function):
    """`pre.gather(-1, indices)` where `pre = (x - b_dec) @ W_enc + b_enc` was computed without
    grad; backward reaches only the gathered encoder columns (O(batch * k * d_in)). The input is
    data, so of its gradient only the batch sum is needed, for `b_dec`: `-W_enc @ grad_b_enc`."""

    @staticmethod
    def forward(
        ctx, x_in: Tensor, b_dec: Tensor, W_enc: Tensor, b_enc: Tensor, pre: Tensor, indices: Tensor
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc, indices)
        return pre.gather(-1, indices)

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
