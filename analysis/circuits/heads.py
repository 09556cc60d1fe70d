"""Per-head effects on a task's metric: activation patching (the ground truth), mean ablation,
and attribution patching (AtP: one backward pass), all at each head's output, i.e. its slice of
the attention output projection's input (`blocks.L.attn.hook_z`)."""

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import Tensor
from tqdm.auto import tqdm

from saekit import hooks
from saekit.analysis.circuits.tasks import Task
from saekit.hooks import HookPoint
from saekit.models import LanguageModel

Method = Literal["patching", "mean-ablation", "atp", "atp-ig"]
HEAD_OUTPUTS = "blocks.*.attn.hook_z"


@dataclass(frozen=True)
class Capability:
    """What the model does on a task before any circuit is looked for."""

    clean_metric: float
    corrupt_metric: float
    clean_accuracy: float
    """Fraction of clean prompts with a positive metric."""
    corrupt_accuracy: float

    @property
    def can_do(self) -> bool:
        """Most clean prompts right, and the corruption removes most of the metric."""
        gap = self.clean_metric - self.corrupt_metric
        return self.clean_accuracy >= 0.6 and gap > 0.5 * abs(self.clean_metric)


@dataclass(frozen=True)
class HeadEffects:
    method: str
    effects: Tensor
    """`[n_layers, n_heads]` normalised effect (M_edited - M_clean) / (M_corrupt - M_clean):
    1 means the head alone carries the whole corruption, 0 none of it."""
    clean_metric: float
    corrupt_metric: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self) | {"effects": self.effects.tolist()}


def head_points(model: LanguageModel) -> list[HookPoint]:
    return model.resolve_hooks(HEAD_OUTPUTS)


def task_metric(model: LanguageModel, task: Task, ids: Tensor, edits=()) -> Tensor:
    """`[N]` metric of one forward pass over `ids` with `edits` (hooks.Edit pairs) attached."""
    with hooks.hooked(model.module, edits):
        logits = model.module(input_ids=ids.to(model.device), use_cache=False).logits
    return task.metric(task.last_logits(logits))


@torch.no_grad()
def capability(model: LanguageModel, task: Task) -> Capability:
    clean, corrupt = task_metric(model, task, task.clean), task_metric(model, task, task.corrupt)
    return Capability(
        float(clean.mean()),
        float(corrupt.mean()),
        float((clean > 0).float().mean()),
        float((corrupt > 0).float().mean()),
    )


def head_effects(
    model: LanguageModel,
    task: Task,
    method: Method = "patching",
    layers: Sequence[int] | None = None,
    progress: bool = True,
    heads: Sequence[tuple[int, int]] | None = None,
    steps: int = 5,
) -> HeadEffects:
    """Every head's effect on the task metric. `patching`: the head's output from the corrupted
    run in the clean run (one forward per head); `mean-ablation`: its mean output over the
    corrupted prompts and their real positions instead; `atp`: the first-order estimate
    (z_corrupt - z_clean) . dM/dz from one forward and one backward pass; `atp-ig`: the same
    with dM/dz averaged over `steps` points on the straight line from z_clean to z_corrupt, one
    layer's heads moved at a time and the layers above recomputed (integrated gradients, as in
    Marks et al. 2024: steps x layers passes; it fixes most of AtP's sign errors where the
    metric saturates). `layers` limits a
    patching scan to some layers and `heads` to chosen (layer, head) pairs (the others' effects
    are NaN)."""
    if method not in ("patching", "mean-ablation", "atp", "atp-ig"):
        raise ValueError(f"unknown method {method!r}: patching, mean-ablation, atp or atp-ig")
    start = time.perf_counter()
    points = head_points(model)
    with torch.no_grad(), hooks.attached(model.module, points) as corrupt_z:
        corrupt = float(task_metric(model, task, task.corrupt).mean())  # fills corrupt_z
    with torch.no_grad():
        clean = float(task_metric(model, task, task.clean).mean())
    if method == "atp":
        raw = _attribution(model, task, points, corrupt_z)
    elif method == "atp-ig":
        raw = _integrated_attribution(model, task, points, corrupt_z, steps, progress)
    else:
        n_heads = corrupt_z[points[0].name].shape[2]
        scanned = range(len(points)) if layers is None else layers
        every = [(layer, head) for layer in scanned for head in range(n_heads)]
        chosen = list(heads) if heads is not None else every
        raw = _patched_metrics(model, task, points, corrupt_z, method, chosen, progress) - clean
    effects = raw / (corrupt - clean) if corrupt != clean else raw * float("nan")
    return HeadEffects(method, effects, clean, corrupt, time.perf_counter() - start)


@torch.no_grad()
def _patched_metrics(model, task, points, corrupt_z, method, chosen, progress) -> Tensor:
    n_heads = corrupt_z[points[0].name].shape[2]
    bad = [
        (layer, head)
        for layer, head in chosen
        if not (0 <= layer < len(points) and 0 <= head < n_heads)
    ]
    if bad:
        raise ValueError(
            f"heads {bad[:5]} do not exist: the model has {len(points)} layers x {n_heads} heads"
        )
    out = torch.full((len(points), n_heads), float("nan"))  # cpu: results
    sources = {}
    for layer, head in tqdm(
        chosen, desc=f"{task.name} {method}", unit="head", disable=not progress
    ):
        point = points[layer]
        if layer not in sources:
            source = corrupt_z[point.name]
            if method == "mean-ablation":
                source = mean_over_real_positions(source, task.last).expand_as(source)
            sources[layer] = source
        edit = _replace_head(head, sources[layer])
        out[layer, head] = task_metric(model, task, task.clean, [(point, edit)]).mean()
    return out


@torch.no_grad()
def metric_with_heads_ablated(
    model: LanguageModel, task: Task, heads: Sequence[tuple[int, int]]
) -> float:
    """Mean clean metric with `heads` ((layer, head) pairs) mean-ablated together: each takes
    its mean output over the corrupted prompts and their real positions."""
    points = head_points(model)
    layers = sorted({layer for layer, _ in heads})
    corrupt_z = model.capture(task.corrupt, [points[layer] for layer in layers], stop_early=False)
    edits = []
    for layer in layers:
        name = points[layer].name
        mean = mean_over_real_positions(corrupt_z[name], task.last).expand_as(corrupt_z[name])
        chosen = [head for lay, head in heads if lay == layer]
        edits.append((points[layer], _replace_heads(chosen, mean)))
    return float(task_metric(model, task, task.clean, edits).mean())


def mean_over_real_positions(z: Tensor, last: Tensor) -> Tensor:
    """`[N, T, ...]` -> `[1, 1, ...]`: the mean over every prompt's positions up to its last real
    one (right padding left out)."""
    positions = torch.arange(z.shape[1], device=z.device)
    real = (positions[None, :] <= last.to(z.device)[:, None]).to(z.dtype)
    weights = real.reshape(*real.shape, *([1] * (z.dim() - 2)))
    return (z * weights).sum(dim=(0, 1), keepdim=True) / real.sum()


def _replace_head(head: int, source: Tensor):
    return _replace_heads([head], source)


def _replace_heads(heads: Sequence[int], source: Tensor):
    def edit(z: Tensor) -> Tensor:
        z = z.clone()
        z[:, :, list(heads)] = source[:, :, list(heads)].to(z)
        return z

    return edit


def _attribution(model, task, points, corrupt_z) -> Tensor:
    with torch.enable_grad(), hooks.keeping_grad(model.module, points) as record:
        task_metric(model, task, task.clean).mean().backward()
    gradients = record.gradients()
    rows = []
    for point in points:
        delta = corrupt_z[point.name] - record.activations[point.name]
        rows.append((delta * gradients[point.name]).sum(dim=(1, 3)).sum(0))
    return torch.stack(rows).detach().cpu()


def _integrated_attribution(model, task, points, corrupt_z, steps: int, progress) -> Tensor:
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    with torch.no_grad():
        clean_z = model.capture(task.clean, points, stop_early=False)
    rows = []
    for point in tqdm(points, desc=f"{task.name} atp-ig", unit="layer", disable=not progress):
        clean, corrupt = clean_z[point.name], corrupt_z[point.name].to(clean_z[point.name])
        gradient = torch.zeros_like(clean)
        for step in range(steps):
            alpha = (step + 0.5) / steps  # midpoints of the path
            moved = (clean + alpha * (corrupt - clean)).requires_grad_()
            with torch.enable_grad():
                metric = task_metric(model, task, task.clean, [(point, _constant(moved))])
                metric.mean().backward()
            gradient += moved.grad / steps
        rows.append(((corrupt - clean) * gradient).sum(dim=(1, 3)).sum(0))
    return torch.stack(rows).detach().cpu()


def _constant(value: Tensor):
    def edit(_: Tensor) -> Tensor:
        return value

    return edit
