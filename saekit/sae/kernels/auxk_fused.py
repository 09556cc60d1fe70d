"""AuxK's loss in two compiled calls (`auxk_fused.inc`, float32 CPU, every kernel path; built and
loaded by `saekit.sae.kernels.compiled`): the decode of the sampled rows' dead-latent code against
the residual in the forward, every gradient it implies in the backward. The autograd path it
replaces (`TopKSAE._decode_code`: the gathered pre-activations and the sparse decode, ~60 small
operations) is its reference and the fallback, and still does the work past `MAX_WORK`; at
d_in 64 and batch 1024 those small operations were about a third of the training step."""

from typing import NamedTuple

import torch
from torch import Tensor

from saekit.sae.kernels.compiled import kernel_library, kernel_path

MAX_WORK = 2**23
"""The most multiply-adds a pass (code entries x (d_in + d_out)) for which the kernel is used: it
runs on one thread, and past a few million the autograd path's two-thread operations win.
Whole training step, in-process A/B at batch 1024: d_in 64 / width 512 / k_aux 32 on 256 rows
(1M) 1.20-1.24x; d_in 128 / 2048 / 64 (4M) 1.07-1.11x; d_in 256 / 4096 / 128 (17M) 0.99-1.03x;
d_in 576 / 4608 / 288 on 114 rows (38M) 0.83-0.90x."""


class AuxKCode(NamedTuple):
    """The sampled rows' AuxK code and what it is scored against (all `[rows, ...]`)."""

    x_in: Tensor
    """The rows' encoder inputs (`x - b_dec` where the encoder centres on `b_dec`)."""
    pre: Tensor
    """`[rows, k_aux]` the exact pre-activations of the code's latents."""
    indices: Tensor
    """`[rows, k_aux]` the code's latents (dead ones)."""
    residual: Tensor
    """`[rows, d_out]` what the main code left unexplained (no gradient)."""


def fused_auxk_loss(
    code: AuxKCode, W_enc: Tensor, b_enc: Tensor, W_dec: Tensor, b_dec: Tensor, share: float
) -> Tensor | None:
    """`share * sum((sum_j relu(pre_j) W_dec[indices_j] - residual) ** 2)` with gradients to
    `W_enc`, `b_enc`, `W_dec` and, through `x_in = x - b_dec`, `b_dec` (pass it detached where
    the encoder does not centre on it); None where the kernel cannot serve."""
    tensors = (*code, W_enc, b_enc, W_dec, b_dec)
    if kernel_path() is None or any(t.device.type != "cpu" for t in tensors):
        return None
    if code.indices.numel() * (code.x_in.shape[1] + code.residual.shape[1]) > MAX_WORK:
        return None
    if any(t.dtype != torch.float32 for t in (code.x_in, code.pre, W_enc, W_dec, code.residual)):
        return None
    if code.indices.dtype != torch.long:
        return None
    return FusedAuxK.apply(W_enc, b_enc, W_dec, b_dec, code, share)


class FusedAuxK(torch.autograd.Function):
    @staticmethod
    def forward(ctx, W_enc, b_enc, W_dec, b_dec, code: AuxKCode, share: float) -> Tensor:
        x_in, pre, indices, residual = (t.detach().contiguous() for t in code)
        W_dec = W_dec.detach().contiguous()
        rows, k_aux = indices.shape
        error = torch.empty_like(residual)
        ctx.path = kernel_path()
        total = kernel_library().saekit_auxk_forward(
            ctx.path,
            pre.data_ptr(),
            indices.data_ptr(),
            rows,
            k_aux,
            W_dec.data_ptr(),
            residual.data_ptr(),
            residual.shape[1],
            error.data_ptr(),
        )
        ctx.save_for_backward(x_in, pre, indices, error, W_enc, W_dec)
        ctx.share = share
        return torch.tensor(total * share, dtype=torch.float32)  # cpu: a CPU kernel

    @staticmethod
    def backward(ctx, grad: Tensor):
        x_in, pre, indices, error, W_enc, W_dec = ctx.saved_tensors
        (d_sae, d_out), d_in = W_dec.shape, x_in.shape[1]
        grad_W_dec = torch.zeros_like(W_dec)
        grad_W_enc_t = W_dec.new_zeros(d_sae, d_in)
        grad_b_enc = W_dec.new_zeros(d_sae)
        kernel_library().saekit_auxk_backward(
            ctx.path,
            pre.data_ptr(),
            indices.data_ptr(),
            *indices.shape,
            W_dec.data_ptr(),
            error.data_ptr(),
            d_out,
            x_in.data_ptr(),
            d_in,
            float(grad) * ctx.share,
            grad_W_dec.data_ptr(),
            grad_W_enc_t.data_ptr(),
            grad_b_enc.data_ptr(),
        )
        grad_b_dec = -(W_enc.detach() @ grad_b_enc) if ctx.needs_input_grad[3] else None
        return grad_W_enc_t.T, grad_b_enc, grad_W_dec, grad_b_dec, None, None
