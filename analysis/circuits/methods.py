"""Circuit method name -> how it runs: the one list `saekit circuits --methods` offers. Each
method turns a task into a score per head (and draws its head grid); `run_circuits` scores it
against the patching truth. Adding a method is one function and one entry here (or
`register_method` from your own code)."""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from saekit.analysis.circuits.discrete_sae import DiscreteSAEConfig, discrete_sae_circuit
from saekit.analysis.circuits.heads import HeadEffects, head_effects
from saekit.analysis.circuits.plots import head_grid
from saekit.analysis.circuits.scoring import THRESHOLDS, score_against_truth
from saekit.analysis.circuits.tasks import Task
from saekit.models import LanguageModel


@dataclass(frozen=True)
class MethodInputs:
    """What a method runs on."""

    model: LanguageModel
    task: Task
    task_name: str
    truth: HeadEffects | None
    """Per-head patching effects (None when patching is not among the methods)."""
    out: Path
    """Where its head-grid figure goes."""
    trials: int = 10
    sae_prompts: int = 10
    seed: int = 0


@dataclass
class MethodResult:
    method: str
    seconds: float
    """Wall time (mean over trials for discrete-sae)."""
    scores: Tensor
    """`[layers, heads]` head scores (|effect| for patching-type methods, node scores)."""
    roc_auc: dict[str, float]
    """ROC-AUC against the truth, per threshold (mean over trials)."""
    roc_auc_std: dict[str, float] = field(default_factory=dict)
    edge_roc_auc: dict[str, float] = field(default_factory=dict)
    """discrete-sae: ROC-AUC of the edge-derived node scores."""
    precision_at_size: dict[str, float] = field(default_factory=dict)


MethodRunner = Callable[[MethodInputs], MethodResult]


def _scored(method: str, effects: Tensor, seconds: float, truth) -> MethodResult:
    scores = effects.abs()
    result = MethodResult(method, seconds, scores, {})
    if truth is not None:
        judged = score_against_truth(scores, truth.effects)
        result.roc_auc = {str(s.threshold): s.roc_auc for s in judged}
        result.precision_at_size = {str(s.threshold): s.precision_at_size for s in judged}
    return result


def _discrete_sae(inputs: MethodInputs) -> MethodResult:
    trials = []
    truth = inputs.truth
    for trial in range(inputs.trials):
        settings = DiscreteSAEConfig(prompts=inputs.sae_prompts, seed=inputs.seed + trial)
        trials.append(discrete_sae_circuit(inputs.model, inputs.task, settings))
    mean_scores = torch.stack([t.node_scores for t in trials]).mean(0)
    result = MethodResult(
        "discrete-sae", statistics.mean(t.seconds for t in trials), mean_scores, {}
    )
    if truth is None:
        return result
    nodes = [score_against_truth(t.node_scores, truth.effects) for t in trials]
    edges = [score_against_truth(t.edge_node_scores, truth.effects) for t in trials]
    for i, threshold in enumerate(THRESHOLDS):
        key = str(threshold)
        aucs = [n[i].roc_auc for n in nodes]
        result.roc_auc[key] = statistics.mean(aucs)
        result.roc_auc_std[key] = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
        result.edge_roc_auc[key] = statistics.mean(e[i].roc_auc for e in edges)
        result.precision_at_size[key] = statistics.mean(n[i].precision_at_size for n in nodes)
    return result


def _head_method(method: str) -> MethodRunner:
    """Patching, mean ablation or attribution patching: one effect per head."""

    def run(inputs: MethodInputs) -> MethodResult:
        reuse = method == "patching" and inputs.truth is not None
        effects = inputs.truth if reuse else head_effects(inputs.model, inputs.task, method)
        title = "patching effect" if method == "patching" else method
        head_grid(effects.effects, f"{inputs.task_name}: {title}", inputs.out / f"{method}.png")
        return _scored(method, effects.effects, effects.seconds, inputs.truth)

    return run


METHODS: dict[str, MethodRunner] = {
    "patching": _head_method("patching"),
    "mean-ablation": _head_method("mean-ablation"),
    "atp": _head_method("atp"),
    "discrete-sae": _discrete_sae,
}


def register_method(name: str, runner: MethodRunner) -> None:
    """Make a circuit method available to `run_circuits` and `saekit circuits --methods`."""
    if name in METHODS:
        raise ValueError(f"a circuit method named {name!r} is already registered")
    METHODS[name] = runner
