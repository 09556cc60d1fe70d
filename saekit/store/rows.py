"""How a forward pass becomes store rows: the column a hook's activations are kept in, and one
batch's activations flattened to rows with their token, position and window. Used by the
harvest that writes stores, by live training, and by the reader."""

import torch
from torch import Tensor


def acts_key(hook: str) -> str:
    """The column (safetensors key) holding a hook's activations in a shard."""
    return f"acts.{hook}"


def batch_rows(
    acts: dict[str, Tensor],
    first: int,
    dtype: torch.dtype,
    tokens: Tensor | None = None,
    keep: Tensor | None = None,
) -> dict[str, Tensor]:
    """One batch's activations `{hook: [batch, pos, ...]}` as rows, plus row metadata.

    `first` is the batch's first window (or image) index; `tokens [N, T]` the whole input's
    token ids (None for images: -1); `keep [N, T]` the positions to store (None keeps all)."""
    some = next(iter(acts.values()))
    b, t = some.shape[:2]
    kept = keep[first : first + b].reshape(-1) if keep is not None else None
    rows = {}
    for name, value in acts.items():
        flat = value.reshape(b * t, -1)
        rows[acts_key(name)] = (flat[kept] if kept is not None else flat).to("cpu", dtype)
    windows = torch.arange(first, first + b).repeat_interleave(t)
    positions = torch.arange(t).repeat(b)
    ids = tokens[first : first + b].reshape(-1) if tokens is not None else torch.full((b * t,), -1)
    meta = {"windows": windows, "positions": positions, "tokens": ids}
    for key, value in meta.items():
        rows[key] = (value[kept] if kept is not None else value).to(torch.int64)
    return rows
