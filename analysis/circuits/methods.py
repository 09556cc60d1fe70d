"""Circuit method name -> how it runs: the one list `saekit circuits --methods` offers. Each
method turns a task into a score per head (and draws its head grid); `run_circuits` scores it
against both ground truths (`scoring.py`). Adding a method is one function and one entry here (or
`register_method` from your own code)."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from saekit.analysis.circuits.discrete_sae import (
    DiscreteSAEConfig,
    SAEKind,
    circuit_from_writes,
    paper_l1_coefficient,
)
from saekit.analysis.circuits.heads import HeadEffects, head_effects
from saekit.analysis.circuits.plots import head_grid
from saekit.analysis.circuits.scoring import TruthSet, score_against_sets
from saekit.analysis.circuits.tasks import Task
from saekit.analysis.circuits.writes import head_writes
from saekit.models import LanguageModel

TruthSets = dict[str, list[TruthSet]]
"""Ground truth name (`patching`, `response`) -> its circuit at each threshold."""


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
    truths: TruthSets = field(default_factory=dict)
    """The ground truths its scores are judged against (none: not scored)."""


@dataclass
class MethodResult:
    method: str
    seconds: float
    """Wall time (mean over trials for the discrete-SAE methods)."""
    scores: Tensor
    """`[layers, heads]` head scores (|effect| for patching-type methods, node scores)."""
    roc_auc: dict[str, dict[str, float]] = field(default_factory=dict)
    """Truth -> threshold -> ROC-AUC (mean over trials)."""
    roc_auc_std: dict[str, dict[str, float]] = field(default_factory=dict)
    edge_roc_auc: dict[str, dict[str, float]] = field(default_factory=dict)
    """Discrete-SAE methods: ROC-AUC of the edge-derived node scores."""
    precision_at_size: dict[str, dict[str, float]] = field(default_factory=dict)


MethodRunner = Callable[[MethodInputs], MethodResult]


def _judged(per_trial_scores: list[Tensor], truths: TruthSets):
    """Truth -> threshold -> (mean AUC, std AUC, mean precision at size) over trials."""
    out = {}
    for name, sets in truths.items():
        trials = [score_against_sets(scores, sets) for scores in per_trial_scores]
        out[name] = {}
        for i, truth in enumerate(sets):
            aucs = [t[i].roc_auc for t in trials]
            std = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
            precision = statistics.mean(t[i].precision_at_size for t in trials)
            out[name][str(truth.threshold)] = (statistics.mean(aucs), std, precision)
    return out


def _result(method: str, seconds: float, per_trial: list[Tensor], truths: TruthSets):
    scores = torch.stack(per_trial).mean(0)
    result = MethodResult(method, seconds, scores)
    for name, by_threshold in _judged(per_trial, truths).items():
        result.roc_auc[name] = {t: v[0] for t, v in by_threshold.items()}
        if len(per_trial) > 1:
            result.roc_auc_std[name] = {t: v[1] for t, v in by_threshold.items()}
        result.precision_at_size[name] = {t: v[2] for t, v in by_threshold.items()}
    return result


def _discrete_sae(sae: SAEKind, method: str) -> MethodRunner:
    """The seed method over trials (different training prompts and seeds): its SAE as the
    paper trains it, or saekit's standard SAE and trainer."""

    def run(inputs: MethodInputs) -> MethodResult:
        start = time.perf_counter()
        model, task = inputs.model, inputs.task
        positive = head_writes(model, task, task.clean, "mean")
        negative = head_writes(model, task, task.corrupt, "mean")
        shared = time.perf_counter() - start
        l1 = paper_l1_coefficient(inputs.task_name)
        trials = []
        for trial in range(inputs.trials):
            settings = DiscreteSAEConfig(
                inputs.sae_prompts, l1_coefficient=l1, sae=sae, seed=inputs.seed + trial
            )
            trials.append(circuit_from_writes(positive, negative, settings))
        seconds = shared + statistics.mean(t.seconds for t in trials)
        result = _result(method, seconds, [t.node_scores for t in trials], inputs.truths)
        edges = _judged([t.edge_node_scores for t in trials], inputs.truths)
        result.edge_roc_auc = {
            name: {t: v[0] for t, v in by_threshold.items()} for name, by_threshold in edges.items()
        }
        return result

    return run


def _head_method(method: str) -> MethodRunner:
    """Patching, mean ablation or attribution patching (plain or integrated): one effect per
    head."""

    def run(inputs: MethodInputs) -> MethodResult:
        reuse = method == "patching" and inputs.truth is not None
        effects = inputs.truth if reuse else head_effects(inputs.model, inputs.task, method)
        title = "patching effect" if method == "patching" else method
        head_grid(effects.effects, f"{inputs.task_name}: {title}", inputs.out / f"{method}.png")
        return _result(method, effects.seconds, [effects.effects.abs()], inputs.truths)

    return run


METHODS: dict[str, MethodRunner] = {
    "patching": _head_method("patching"),
    "mean-ablation": _head_method("mean-ablation"),
    "atp": _head_method("atp"),
    "atp-ig": _head_method("atp-ig"),
    "discrete-sae": _discrete_sae("paper", "discrete-sae"),
    "discrete-sae-saekit": _discrete_sae("saekit", "discrete-sae-saekit"),
}


def register_method(name: str, runner: MethodRunner) -> None:
    """Make a circuit method available to `run_circuits` and `saekit circuits --methods`."""
    if name in METHODS:
        raise ValueError(f"a circuit method named {name!r} is already registered")
    METHODS[name] = runner
