"""A compiled row top-k for the CPU (`row_topk_avx512.cpp`, and `row_topk_generic.inc` for the
AVX2 and portable paths; built and loaded by `saekit.sae.kernels.compiled`).

`compiled_topk_indices` answers None wherever the kernel cannot serve (no compiler, not
x86-64, another dtype or layout, a k outside its range, fewer columns than k, NaN in the rows,
or `SAEKIT_COMPILED_KERNELS=0`); callers then use PyTorch's top-k, which is also the
reference the tests hold it to. It runs on one thread (a second one made the training step
slower: PyTorch's OpenMP workers spin on the other core after each parallel region) and on this
project's CPU is still 4.9x PyTorch's 2-thread `topk` at batch 1024, width 512, k 8 (float32),
5.7x at width 2048, k 20 and 6.4x at width 4608, k 40 (bfloat16); on AuxK's dead columns 7.3x at
256 x 900, k 64 and 1.0-2.4x on narrow rows (256 x 172, k 32). The training step at batch 1024
(in-process A/B against the first version of the kernel, which counted in floats, kept one chain
of stripe maxima and left rows under 8k columns to PyTorch): 1.07-1.15x on the d_in-64 toy set
with 32 % dead latents, 1.16-1.18x on the medium set with 20 % dead, 1.05-1.08x on the dense
set.
"""

import torch
from torch import Tensor

from saekit.sae.kernels.compiled import kernel_library, kernel_path

MAX_K = 128
"""Largest k served: the kernel ranks 2k stripe maxima (at most 256) by counting."""


def stripes_for(k: int) -> int:
    """How many stripe maxima rank a row for top-k: 2k rounded up to a multiple of 16."""
    return max(16, -(-2 * k // 16) * 16)


def compiled_topk_indices(x: Tensor, k: int) -> Tensor | None:
    """`x.topk(k, dim=-1, sorted=False).indices` of a `[rows, cols]` CPU float32 or bfloat16
    matrix whose columns are contiguous, from the compiled kernel; None where it cannot serve.
    The same entries as PyTorch's up to ties at the k-th value (taken here in column order)."""
    if not _fits(x, k):
        return None
    path = kernel_path()
    if path is None:
        return None
    rows, cols = x.shape
    out = torch.empty(rows, k, dtype=torch.long)  # cpu: a CPU kernel
    status = kernel_library().saekit_topk_rows(
        path,
        x.data_ptr(),
        int(x.dtype == torch.bfloat16),
        rows,
        cols,
        x.stride(0),
        k,
        stripes_for(k),
        out.data_ptr(),
    )
    return out if status == 0 else None  # 1: a row holds NaN, which PyTorch ranks first


def _fits(x: Tensor, k: int) -> bool:
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.bfloat16)
        and x.dim() == 2
        and x.shape[0] > 0
        and x.stride(1) == 1
        and 0 < k <= MAX_K
        and x.shape[1] >= k
    )
