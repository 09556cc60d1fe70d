"""Each head's write to the residual stream (z_h @ W_O[:, h]^T) on a task's prompts, and the
second ground truth built from it: how much each head's write changes under the corruption."""

from collections.abc import Iterator
from typing import Literal

import torch
from torch import Tensor

from saekit.analysis.circuits.heads import head_points
from saekit.analysis.circuits.tasks import Task
from saekit.models import LanguageModel

Position = Literal["mean", "last"]


def _writes_per_layer(model: LanguageModel, ids: Tensor) -> Iterator[Tensor]:
    """`[prompts, positions, heads, d_model]` per layer."""
    points = head_points(model)
    z = model.capture(ids, points, stop_early=False)
    modules = dict(model.module.named_modules())
    for point in points:
        z_layer = z.pop(point.name)  # [P, T, H, dh]
        n_heads, head_dim = z_layer.shape[2:]
        w_o = modules[point.module].weight.reshape(-1, n_heads, head_dim)  # [d_model, H, dh]
        yield torch.einsum("pthd,mhd->pthm", z_layer, w_o.to(z_layer)).float().cpu()


def _real_positions(task: Task, width: int) -> Tensor:
    """`[prompts, positions]` 1.0 at each prompt's real positions (right padding 0)."""
    return (torch.arange(width)[None, :] <= task.last.cpu()[:, None]).float()  # cpu: writes are


@torch.no_grad()
def head_writes(model: LanguageModel, task: Task, ids: Tensor, position: Position) -> Tensor:
    """`[prompts, layers, heads, d_model]`: each head's write averaged over the real positions
    of each prompt (`mean`) or at its last one (`last`)."""
    real = _real_positions(task, ids.shape[1])[..., None, None]
    writes = []
    for per_position in _writes_per_layer(model, ids):
        if position == "last":
            writes.append(per_position[torch.arange(len(ids)), task.last.cpu()])  # cpu: writes are
        else:
            writes.append((per_position * real).sum(1) / real.sum(1))
    return torch.stack(writes, dim=1)


@torch.no_grad()
def head_responses(model: LanguageModel, task: Task) -> Tensor:
    """`[layers, heads]`: how much each head's write changes when the clean prompt is replaced
    by its corruption, relative to the write's size: the mean over prompts and real positions of
    |write_corrupt - write_clean|, divided by the mean |write_clean|. A head that reacts to the
    corruption (whether or not the metric depends on it) scores high."""
    real = _real_positions(task, task.clean.shape[1])[..., None]
    clean_layers = _writes_per_layer(model, task.clean)
    corrupt_layers = _writes_per_layer(model, task.corrupt)
    rows = []
    for clean, corrupt in zip(clean_layers, corrupt_layers, strict=True):
        change = ((corrupt - clean).norm(dim=-1) * real).sum((0, 1))
        size = (clean.norm(dim=-1) * real).sum((0, 1))
        rows.append(change / size.clamp_min(torch.finfo(size.dtype).tiny))
    return torch.stack(rows)
