"""Sparse kernels for the TopK family, each with a plain dense reference beside it.

Training a TopK dictionary needs one dense matmul (the encoder's forward pass, to rank the
latents), which with the top-k after it (`top_columns`) is most of a CPU training step.
`rank_latents` may do it in bfloat16 where the CPU multiplies bfloat16 natively (AMX /
AVX512-BF16: 3.6x the float32 matmul rate on this project's CPU); everything after it touches
only the selected latents: the gradient of the encoder reaches `k` columns per example, and the
decoder reads `k` rows per example.
"""

import os
import warnings
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from saekit.sae.kernels.row_topk import compiled_topk_indices

RADIX_SORT_LATENTS = 2**16
"""Up to this many latents, a code's entries are grouped by latent with a 16-bit radix sort."""
TOP_COLUMNS_GROUP = 8
"""`top_columns` ranks groups of this many columns by their maximum first..."""
TWO_STAGE_WIDTH = 2048
"""...from this width on."""
RANK_BLOCK_BYTES = 16 << 20
"""`rank_latents` ranks a CPU batch in row blocks whose ranking matrix fits in this many bytes."""
BF16_ISAS = ("ALL", "DEFAULT", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX10")
"""`ONEDNN_MAX_CPU_ISA` values that leave oneDNN its native bfloat16 instructions."""
SHORTLIST_MARGIN = 0.25
"""bfloat16 ranking shortlists k * (1 + this) latents before exact re-ranking."""


@cache
def native_bf16_matmul() -> bool:
    """Whether this machine's CPU multiplies bfloat16 natively (Linux CPU flags), and oneDNN
    may use those instructions (`ONEDNN_MAX_CPU_ISA` below AVX512_CORE_BF16 forbids them)."""
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if not limit.startswith(BF16_ISAS):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def auto_rank_dtype(device: torch.device, d_in: int) -> torch.dtype | None:
    """The ranking matmul's dtype `rank_precision="auto"` picks: bfloat16 on CPUs that multiply
    it natively from d_in 128 (below, the matmul is too cheap to pay for the rest), else None
    (the weights' dtype)."""
    native = device.type == "cpu" and native_bf16_matmul()
    return torch.bfloat16 if native and d_in >= 128 else None


class Ranked(NamedTuple):
    values: Tensor
    """`[batch, k]` the top pre-activations (not yet through the ReLU), float32."""
    indices: Tensor
    aux_values: Tensor | None
    """`[len(aux_rows), k_aux]` the top pre-activations among the dead latents (AuxK) on the
    rows `aux_rows`, if asked for."""
    aux_indices: Tensor | None


@torch.no_grad()
def rank_latents(
    x_in: Tensor,
    W_enc: Tensor,
    b_enc: Tensor,
    k: int,
    dead_mask: Tensor | None = None,
    k_aux: int = 0,
    dtype: torch.dtype | None = None,
    aux_rows: slice = slice(None),
) -> Ranked:
    """The top-`k` latents of `x_in @ W_enc + b_enc` per row (and the top `k_aux` among the
    `dead_mask` latents on the rows `aux_rows`, default all), with their exact (float32)
    pre-activations.

    `dtype=torch.bfloat16` shortlists `k * 1.25` candidates from a bfloat16 matmul, computes
    their exact values (a sampled matmul over the shortlist only) and keeps the top `k` of them:
    the same latents as the float32 ranking unless more than `k / 4` latents lie within
    bfloat16's rounding (2**-9, relative) of the `k`-th (tested against the reference).

    On the CPU a batch whose ranking matrix exceeds `RANK_BLOCK_BYTES` is ranked in row
    blocks, so that matrix is never built whole (in-process A/B, minimum over 20 rounds,
    batch 4096: the ranking 1.20x faster at d_in 576 / width 4608, the whole step 1.12x;
    1.07x and 1.08x at d_in 256 / width 4096; smaller blocks than 16 MiB measured slower)."""
    weights = RankingWeights(
        W_enc, b_enc, W_enc.to(dtype or W_enc.dtype), b_enc.to(dtype or b_enc.dtype)
    )
    batch, row_bytes = x_in.shape[0], W_enc.shape[1] * weights.rough_W_enc.element_size()
    rows = max(1, RANK_BLOCK_BYTES // row_bytes)
    if x_in.device.type != "cpu" or rows >= batch:
        return _rank_block(x_in, weights, k, dead_mask, k_aux, aux_rows)
    blocks = [
        _rank_block(
            x_in[start : start + rows],
            weights,
            k,
            dead_mask,
            k_aux,
            _rows_in_block(aux_rows, start, rows),
        )
        for start in range(0, batch, rows)
    ]
    return Ranked(
        *(None if part[0] is None else torch.cat(part) for part in zip(*blocks, strict=True))
    )


class RankingWeights(NamedTuple):
    """The encoder's weights, exact and in the ranking matmul's dtype (cast once per batch, not
    per block); the same dtype means the ranking is exact and needs no re-ranking."""

    W_enc: Tensor
    b_enc: Tensor
    rough_W_enc: Tensor
    """`W_enc` in the ranking matmul's dtype."""
    rough_b_enc: Tensor


def _rows_in_block(rows: slice, start: int, length: int) -> slice:
    """The rows of the slice `rows` (of a batch) that fall in the block of `length` rows from
    `start`, as a slice of that block."""
    first, step = rows.start or 0, rows.step or 1
    first_in_block = first + max(0, -(-(start - first) // step)) * step
    return slice(first_in_block - start, length, step)


def _rank_block(
    x_in: Tensor,
    weights: RankingWeights,
    k: int,
    dead_mask: Tensor | None,
    k_aux: int,
    aux_rows: slice,
) -> Ranked:
    """`rank_latents` on one block of rows."""
    W_enc, b_enc, rough_W_enc, rough_b_enc = weights
    if rough_W_enc.dtype == W_enc.dtype:
        pre = torch.addmm(b_enc, x_in, W_enc)
        values, indices = top_columns(pre, k)
        aux = _aux_top(pre[aux_rows], dead_mask, k_aux)
        return Ranked(values, indices, *(aux or (None, None)))
    rough = torch.addmm(rough_b_enc, x_in.to(rough_W_enc.dtype), rough_W_enc)
    shortlist = top_columns(rough, min(k + int(k * SHORTLIST_MARGIN), W_enc.shape[1])).indices
    exact = exact_pre_activations(x_in, W_enc, b_enc, shortlist)
    values, picked = exact.topk(k, dim=-1, sorted=False)
    aux = _aux_top(rough[aux_rows], dead_mask, k_aux)
    if aux is not None:
        aux = (exact_pre_activations(x_in[aux_rows], W_enc, b_enc, aux[1]), aux[1])
    return Ranked(values, shortlist.gather(-1, picked), *(aux or (None, None)))


class TopColumns(NamedTuple):
    values: Tensor
    indices: Tensor


def top_columns(x: Tensor, k: int) -> TopColumns:
    """`x.topk(k, dim=-1, sorted=False)` of a `[batch, width]` CPU matrix, the same entries up
    to ties at the k-th value, by the fastest exact way this machine has: the compiled kernel
    (`saekit.sae.kernels.row_topk`), else `staged_top_columns` from width 2048, else PyTorch's
    top-k."""
    indices = compiled_topk_indices(x, k)
    if indices is not None:
        return TopColumns(x.gather(1, indices), indices)
    return staged_top_columns(x, k)


def staged_top_columns(x: Tensor, k: int) -> TopColumns:
    """`x.topk(k, dim=-1, sorted=False)` of a `[batch, width]` CPU matrix, ranked in stages
    where that is faster: split each row's columns into `width / 8` groups (columns j,
    j + width / 8, j + 2 width / 8, ...: one strided max per group), keep the `k` groups with
    the largest maxima (ranked the same way again past 8 x 2048 columns) and rank only their
    columns. Exact: a column in the top `k` has at most `k - 1` larger columns, so at most
    `k - 1` groups have a larger maximum than its group's. Ties may pick other columns of
    equal value, as `topk`'s own do. Used from width 2048: PyTorch's CPU top-k costs ~5 ns
    per element and thread; on this project's CPU (2 threads, bfloat16, batch 1024) this is
    1.5x faster at width 2048, 1.7x at 4608, 2.2x at 16384, 2.7x at 65536 (none below 2048)
    and the whole training step 1.12-1.23x (width 2048-4608, batch 1024 and 4096)."""
    batch, width = x.shape
    groups = width // TOP_COLUMNS_GROUP
    if x.device.type != "cpu" or width < TWO_STAGE_WIDTH or width % TOP_COLUMNS_GROUP or groups < k:
        return TopColumns(*x.topk(k, dim=-1, sorted=False))
    maxima = x.reshape(batch, TOP_COLUMNS_GROUP, groups).amax(1)
    top_groups = staged_top_columns(maxima, k).indices  # two-stage again past 8 x 2048 columns
    offsets = torch.arange(0, width, groups, device=x.device)
    candidates = (top_groups.unsqueeze(1) + offsets.unsqueeze(-1)).reshape(batch, -1)
    values, picked = x.gather(1, candidates).topk(k, dim=-1, sorted=False)
    return TopColumns(values, candidates.gather(1, picked))


def _aux_top(pre: Tensor, dead_mask: Tensor | None, k_aux: int) -> tuple[Tensor, Tensor] | None:
    """The top `k_aux` among the dead latents (AuxK's), or None when none is asked for; only
    the dead latents' columns are ranked."""
    if k_aux == 0 or dead_mask is None:
        return None
    dead = dead_mask.nonzero().squeeze(1)
    # float32 first: index_select has no vectorised bfloat16 kernel (256 rows x 900 dead
    # columns: 0.48 ms in bfloat16, 0.11 ms cast and selected in float32); the cast is exact
    values, among_dead = top_columns(pre.float().index_select(1, dead), k_aux)
    return values, dead[among_dead]


def exact_pre_activations(x_in: Tensor, W_enc: Tensor, b_enc: Tensor, indices: Tensor) -> Tensor:
    """`(x_in @ W_enc + b_enc).gather(-1, indices)`, computing only those entries."""
    return sampled_matmul(x_in, W_enc, indices) + b_enc[indices]


def sampled_matmul(a: Tensor, b: Tensor, indices: Tensor) -> Tensor:
    """`(a @ b).gather(-1, indices)` computing only those entries (a sampled dense-dense matmul
    over the pattern of `indices`, whose rows must not repeat a column)."""
    n, per_row = indices.shape
    crow = torch.arange(0, n * per_row + 1, per_row, device=a.device)
    pattern = _csr(crow, indices.reshape(-1), a.new_zeros(n * per_row), (n, b.shape[1]))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        sampled = torch.sparse.sampled_addmm(pattern, a, b, beta=0.0)
    return sampled.values().view(n, per_row)  # in the pattern's order: unsorted is kept


class LatentMajor(NamedTuple):
    """A `[batch, k]` sparse code S (`values[i, j]` at `(i, indices[i, j])`) laid out
    latent-major, for the weight gradients `S.T @ dense`. The layout depends on the indices
    only, so one code's layout is built once and serves both the encoder's and the decoder's
    backward. On the CPU the entries are grouped by latent (the costly part: `group_by_latent`)
    and the product is one `embedding_bag` with a bag per latent: it writes each output row once,
    where the CSR matmul it replaced zero-filled and copied the `[d_sae, d]` output (store shape,
    batch 1024, width 4608: 1.16x the whole step, 1.46x with 40 % of the latents dead);
    elsewhere the matmul goes through COO and needs no layout."""

    indices: Tensor
    d_sae: int
    order: Tensor | None
    """CPU: the flat entries' positions, grouped by latent."""
    starts: Tensor | None
    """CPU: where each latent's entries start in `order` (and, last, their count): the bags'
    offsets."""
    batch_rows: Tensor | None
    """CPU: the batch row of each entry, in `order`."""

    @classmethod
    def of(cls, indices: Tensor, d_sae: int) -> "LatentMajor":
        if indices.device.type != "cpu":
            return cls(indices, d_sae, None, None, None)
        flat = indices.reshape(-1)
        index_dtype = _index_dtype(flat.numel())
        order = group_by_latent(flat, d_sae)
        starts = torch.zeros(d_sae + 1, dtype=index_dtype)  # cpu: CPU path
        starts[1:] = torch.bincount(flat, minlength=d_sae).cumsum(0)
        return cls(indices, d_sae, order, starts, _rows_of(order, indices.shape[1], index_dtype))

    def matmul(self, values: Tensor, dense: Tensor) -> Tensor:
        """`S.T @ dense`: the `[d_sae, d]` weight gradient of the code with these `values`."""
        n, k = self.indices.shape
        if self.order is None:
            batch_rows = torch.arange(n, device=dense.device).repeat_interleave(k)
            coo = torch.sparse_coo_tensor(
                torch.stack([self.indices.reshape(-1), batch_rows]),
                values.reshape(-1),
                (self.d_sae, n),
                check_invariants=False,
            )
            return torch.sparse.mm(coo, dense)
        return F.embedding_bag(  # one bag per latent: its entries' rows of `dense`, weighted
            self.batch_rows,
            dense,
            self.starts,
            mode="sum",
            per_sample_weights=values.reshape(-1).index_select(0, self.order),  # 2x indexing
            include_last_offset=True,
        )


def group_by_latent(flat: Tensor, d_sae: int) -> Tensor:
    """The positions of `flat`'s latent ids (CPU) in an order that groups them by latent (the
    entries of one latent in any order). Up to 2**16 latents: numpy's stable argsort of 16-bit
    keys, a radix sort, 1.4-9.5x PyTorch's argsort on this project's CPU (most at batch 1024:
    92 us vs 875 us for 1024 x 16 entries over 2048 latents); beyond, PyTorch's argsort of
    32-bit keys."""
    if d_sae <= RADIX_SORT_LATENTS:
        keys = flat.numpy().astype(np.uint16)
        return torch.from_numpy(np.argsort(keys, kind="stable"))
    return flat.to(_index_dtype(flat.numel())).argsort()


def _rows_of(order: Tensor, per_row: int, dtype: torch.dtype) -> Tensor:
    """`order // per_row` (the batch row of each flat entry) in `dtype`, by numpy's division by
    a scalar, which vectorises it (1024 x 8 entries: 5 us against PyTorch's 22 us in int64)."""
    positions = order.numpy().astype(np.int32 if dtype == torch.int32 else np.int64)
    return torch.from_numpy(positions // positions.dtype.type(per_row))


def _index_dtype(entries: int) -> torch.dtype:
    """int32 indices where they fit (PyTorch sorts them ~1.8x faster than int64)."""
    return torch.int32 if entries < 2**31 else torch.long


def _csr(crow: Tensor, columns: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, columns, values, size, check_invariants=False)


class GatheredPreActivations(torch.autograd.Function):
    """`picked`, the pre-activations `(x - b_dec) @ W_enc + b_enc` at the code's indices,
    computed without grad; backward reaches only the gathered encoder columns
    (O(batch * k * d_in)). The input is data, so of its gradient only the batch sum is needed,
    for `b_dec`: `-W_enc @ grad_b_enc`."""

    @staticmethod
    def forward(
        ctx,
        x_in: Tensor,
        b_dec: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        picked: Tensor,
        code: LatentMajor,
    ) -> Tensor:
        ctx.save_for_backward(x_in, W_enc)
        ctx.code = code
        return picked.clone()

    @staticmethod
    def backward(ctx, grad: Tensor):
        x_in, W_enc = ctx.saved_tensors
        code = ctx.code
        grad, x_in = grad.to(W_enc.dtype), x_in.to(W_enc.dtype)  # autocast may hand us bf16
        grad_b_enc = torch.zeros(code.d_sae, dtype=grad.dtype, device=grad.device)
        grad_b_enc.index_add_(0, code.indices.reshape(-1), grad.reshape(-1))
        grad_W_enc = code.matmul(grad, x_in).T  # [d_in, d_sae]
        grad_b_dec = -(W_enc @ grad_b_enc) if ctx.needs_input_grad[1] else None
        return None, grad_b_dec, grad_W_enc, grad_b_enc, None, None


class SparseDecode(torch.autograd.Function):
    """`sum_j values[:, j] * W_dec[indices[:, j]]`; backward: the decoder gradient as one
    latent-major sparse-dense matmul, the values' gradient as a sampled matmul."""

    @staticmethod
    def forward(ctx, values: Tensor, code: LatentMajor, W_dec: Tensor) -> Tensor:
        ctx.save_for_backward(values, W_dec)
        ctx.code = code
        return F.embedding_bag(code.indices, W_dec, per_sample_weights=values, mode="sum")

    @staticmethod
    def backward(ctx, grad: Tensor):
        values, W_dec = ctx.saved_tensors
        code = ctx.code
        grad = grad.to(W_dec.dtype)
        grad_values = None
        if ctx.needs_input_grad[0]:
            grad_values = sampled_matmul(grad, W_dec.T, code.indices)
        grad_W_dec = code.matmul(values.to(W_dec.dtype), grad)
        return grad_values, None, grad_W_dec


def sparse_decode(
    values: Tensor, indices: Tensor, W_dec: Tensor, code: LatentMajor | None = None
) -> Tensor:
    """`sum_j values[:, j] * W_dec[indices[:, j]]` without building dense latents (`code`:
    the indices' latent-major layout, when the caller already has it)."""
    if code is None:
        code = LatentMajor.of(indices, W_dec.shape[0])
    return SparseDecode.apply(values.to(W_dec.dtype), code, W_dec)


def dense_decode(values: Tensor, indices: Tensor, W_dec: Tensor) -> Tensor:
    """Reference for `sparse_decode`: scatter to dense latents, then one matmul."""
    dense = values.new_zeros(values.shape[0], W_dec.shape[0]).scatter(-1, indices, values)
    return dense @ W_dec
