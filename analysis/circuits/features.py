"""Feature circuits (Marks et al., "Sparse feature circuits"): with dictionaries spliced in at
chosen hooks, each latent and each hook's reconstruction error is a node; attribution patching
gives every node's effect on the task metric from one forward and one backward pass, and
faithfulness says how much of the metric the top-N nodes carry on their own (every other node
mean-ablated to its value on the corrupted prompts)."""

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from saekit import hooks
from saekit.analysis.circuits.heads import task_metric
from saekit.analysis.circuits.tasks import Task
from saekit.models import LanguageModel
from saekit.sae import Dictionary

ERROR = -1
"""The `latent` index of a hook's error node."""


@dataclass(frozen=True)
class FeatureNode:
    hook: str
    latent: int
    """Latent index, or `ERROR` (-1) for the hook's reconstruction error."""
    effect: float
    """AtP estimate of the change in the mean metric when the node takes its corrupted value."""


@dataclass(frozen=True)
class FaithfulnessPoint:
    nodes: int
    metric: float
    """Mean clean metric with only the top `nodes` nodes left (the rest mean-ablated)."""
    fraction: float
    """(metric - metric with no node) / (metric with every node - metric with no node)."""


@dataclass(frozen=True)
class FeatureCircuit:
    nodes: list[FeatureNode]
    """Every node, by |effect|, largest first."""
    latent_effects: dict[str, Tensor]
    """`{hook: [d_sae]}` each latent's effect."""
    error_effects: dict[str, float]
    faithfulness: list[FaithfulnessPoint]

    def top(self, hook: str, n: int = 10) -> list[FeatureNode]:
        return [node for node in self.nodes if node.hook == hook][:n]


@dataclass
class _Splice:
    """One hook's dictionary, with probes for gradients and an optional node mask."""

    dictionary: Dictionary
    latents: Tensor | None = None
    error: Tensor | None = None
    probe_latents: Tensor | None = None
    probe_error: Tensor | None = None
    keep: Tensor | None = None
    """`[d_sae + 1]` bool (last: the error node); None keeps every node."""
    mean: Tensor | None = None
    """`[d_sae + 1, ...]` replacement values for nodes not kept: mean latents, mean error."""

    def __call__(self, x: Tensor) -> Tensor:
        flat = x.reshape(*x.shape[:2], -1).float()
        latents = self.dictionary.encode(flat)
        error = flat - self.dictionary.decode(latents)
        self.latents, self.error = latents.detach(), error.detach()
        if self.keep is not None:
            latents = torch.where(self.keep[:-1], latents, self.mean["latents"])
            error = error if bool(self.keep[-1]) else self.mean["error"].expand_as(error)
        if torch.is_grad_enabled():
            self.probe_latents = torch.zeros_like(latents, requires_grad=True)
            self.probe_error = torch.zeros_like(error, requires_grad=True)
            latents, error = latents + self.probe_latents, error + self.probe_error
        return (self.dictionary.decode(latents) + error).reshape(x.shape).to(x.dtype)


@contextmanager
def _spliced(model: LanguageModel, splices: Mapping[str, _Splice]):
    edits = [(model.resolve_hooks(hook)[0], splice) for hook, splice in splices.items()]
    with hooks.hooked(model.module, edits):
        yield


def _check(model: LanguageModel, dictionaries: Mapping[str, Dictionary]) -> None:
    if not dictionaries:
        raise ValueError("feature circuits need at least one dictionary: {hook: dictionary}")
    for hook, dictionary in dictionaries.items():
        model.resolve_hooks(hook)  # an unknown hook is an error that lists the close names
        if dictionary.cfg.hook_name not in (None, hook):
            raise ValueError(
                f"the dictionary for {hook} was trained on {dictionary.cfg.hook_name}: "
                "give each hook the dictionary trained there"
            )


def feature_circuit(
    model: LanguageModel,
    task: Task,
    dictionaries: Mapping[str, Dictionary],
    sizes: Sequence[int] = (10, 30, 100),
) -> FeatureCircuit:
    """Every latent's and error node's effect by attribution patching, and the faithfulness of
    the top-N nodes for each N in `sizes`."""
    _check(model, dictionaries)
    splices = {hook: _Splice(d) for hook, d in dictionaries.items()}
    with torch.no_grad(), _spliced(model, splices):
        task_metric(model, task, task.corrupt)
    corrupt = {h: (s.latents, s.error) for h, s in splices.items()}
    with torch.enable_grad(), _spliced(model, splices):
        task_metric(model, task, task.clean).mean().backward()
    latent_effects, error_effects, nodes = {}, {}, []
    for hook, s in splices.items():
        latents_c, error_c = corrupt[hook]
        latent_effects[hook] = ((latents_c - s.latents) * s.probe_latents.grad).sum((0, 1))
        error_effects[hook] = float(((error_c - s.error) * s.probe_error.grad).sum())
        nodes += [FeatureNode(hook, i, float(e)) for i, e in enumerate(latent_effects[hook])]
        nodes.append(FeatureNode(hook, ERROR, error_effects[hook]))
    nodes.sort(key=lambda node: -abs(node.effect))
    curve = faithfulness(model, task, dictionaries, nodes, corrupt, sizes)
    return FeatureCircuit(nodes, latent_effects, error_effects, curve)


@torch.no_grad()
def faithfulness(model, task, dictionaries, ranked, corrupt, sizes) -> list[FaithfulnessPoint]:
    """Metric with only the top-N nodes kept, for each N, relative to all and to none."""

    def metric_keeping(n: int) -> float:
        splices = {}
        for hook, dictionary in dictionaries.items():
            device = next(dictionary.parameters()).device
            keep = torch.zeros(dictionary.cfg.d_sae + 1, dtype=torch.bool, device=device)
            for node in ranked[:n]:
                if node.hook == hook:
                    keep[node.latent] = True  # ERROR (-1) is the last slot
            latents_c, error_c = corrupt[hook]
            mean = {"latents": latents_c.mean((0, 1)), "error": error_c.mean((0, 1))}
            splices[hook] = _Splice(dictionary, keep=keep, mean=mean)
        with _spliced(model, splices):
            return float(task_metric(model, task, task.clean).mean())

    full, empty = metric_keeping(len(ranked)), metric_keeping(0)
    points = []
    for n in sorted(set(sizes)):
        value = metric_keeping(min(n, len(ranked)))
        fraction = (value - empty) / (full - empty) if full != empty else float("nan")
        points.append(FaithfulnessPoint(n, value, fraction))
    return points
