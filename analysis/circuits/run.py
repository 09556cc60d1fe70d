"""One task, every method, scored against patching: what `saekit circuits`, the recipe and the
benchmark run. Writes `results.json`, a head-grid heatmap per method and a ROC plot."""

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from saekit.analysis.circuits.contexts import FeatureContexts
from saekit.analysis.circuits.discrete_sae import DiscreteSAEConfig, discrete_sae_circuit
from saekit.analysis.circuits.features import feature_circuit
from saekit.analysis.circuits.heads import capability, head_effects
from saekit.analysis.circuits.plots import head_grid, roc_plot
from saekit.analysis.circuits.scoring import THRESHOLDS, score_against_truth
from saekit.analysis.circuits.tasks import make_task
from saekit.models import LanguageModel
from saekit.sae import load

METHODS = ("patching", "mean-ablation", "atp", "discrete-sae")


@dataclass
class CircuitsConfig:
    task: str = "ioi"
    """Task: ioi, greater-than or docstring."""
    methods: list[str] = field(default_factory=lambda: ["patching", "atp", "discrete-sae"])
    """Methods to run; patching is the ground truth the others are scored against."""
    prompts: int = 64
    """Prompt pairs for patching and attribution."""
    trials: int = 10
    """Discrete-SAE trials (different training prompts and seeds), reported as mean +- std."""
    sae_prompts: int = 10
    """Prompt pairs each discrete-SAE trial trains on (the paper: about 10)."""
    seed: int = 0
    """Seeds the prompts."""
    dictionaries: list[str] = field(default_factory=list)
    """Dictionary folders to splice in (each at the hook it records) for a feature circuit."""
    feature_sizes: list[int] = field(default_factory=lambda: [10, 30, 100, 300])
    """Feature-circuit sizes (top-N nodes) whose faithfulness is measured."""
    acts: str | None = None
    """The store the dictionaries' feature statistics were computed on: with it, each top
    feature is listed with its top activating contexts (`saekit evaluate --feature-stats`)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}: choose from {', '.join(METHODS)}")


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


def run_circuits(model: LanguageModel, config: CircuitsConfig, out: str | Path) -> dict:
    """Run and score every method on one task; returns (and writes) the results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    task = make_task(config.task, model.tokenizer, config.prompts, config.seed)
    able = capability(model, task)
    results: dict = {"task": config.task, "model": model.spec, "capability": asdict(able)}
    results["can_do"] = able.can_do
    if not able.can_do:
        results["note"] = "the model cannot do this task: not scored"
        (out / "results.json").write_text(json.dumps(results, indent=1))
        return results
    truth = head_effects(model, task, "patching") if "patching" in config.methods else None
    methods = []
    for method in config.methods:
        if method == "discrete-sae":
            methods.append(_discrete_sae(model, task, config, truth))
        elif method == "patching" and truth is not None:
            methods.append(_scored(method, truth.effects, truth.seconds, truth))
            head_grid(truth.effects, f"{config.task}: patching effect", out / "patching.png")
        else:
            effects = head_effects(model, task, method)
            methods.append(_scored(method, effects.effects, effects.seconds, truth))
            head_grid(effects.effects, f"{config.task}: {method}", out / f"{method}.png")
    if truth is not None:
        results["truth"] = truth.to_dict() | {"thresholds": list(THRESHOLDS)}
        roc_truth = truth.effects.abs() >= THRESHOLDS[1]
        roc = {m.method: m.scores for m in methods if m.method != "patching"}
        roc_plot(
            roc, roc_truth, f"{config.task} (truth: |effect| >= {THRESHOLDS[1]})", out / "roc.png"
        )
    results["methods"] = [asdict(m) | {"scores": m.scores.tolist()} for m in methods]
    if config.dictionaries:
        results["feature_circuit"] = _feature_circuit(model, task, config)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return results


def _feature_circuit(model, task, config: CircuitsConfig) -> dict:
    dictionaries = {}
    for folder in config.dictionaries:
        dictionary = load(folder)
        if dictionary.cfg.hook_name is None:
            raise ValueError(f"the dictionary in {folder} records no hook to splice it at")
        dictionaries[dictionary.cfg.hook_name] = dictionary
    circuit = feature_circuit(model, task, dictionaries, config.feature_sizes)
    contexts = FeatureContexts(model.tokenizer, config.acts)
    top = {}
    for folder, hook in zip(config.dictionaries, dictionaries, strict=True):
        top[hook] = [asdict(n) | contexts.of(folder, n.latent) for n in circuit.top(hook, 20)]
    return {
        "top": top,
        "error_effects": circuit.error_effects,
        "faithfulness": [asdict(p) for p in circuit.faithfulness],
    }


def _scored(method: str, effects: Tensor, seconds: float, truth) -> MethodResult:
    scores = effects.abs()
    result = MethodResult(method, seconds, scores, {})
    if truth is not None:
        judged = score_against_truth(scores, truth.effects)
        result.roc_auc = {str(s.threshold): s.roc_auc for s in judged}
        result.precision_at_size = {str(s.threshold): s.precision_at_size for s in judged}
    return result


def _discrete_sae(model, task, config: CircuitsConfig, truth) -> MethodResult:
    trials = []
    for trial in range(config.trials):
        settings = DiscreteSAEConfig(prompts=config.sae_prompts, seed=config.seed + trial)
        trials.append(discrete_sae_circuit(model, task, settings))
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


def summary_lines(results: dict) -> list[str]:
    """A plain-text table: per method, ROC-AUC per threshold, wall time, speed-up."""
    cap = results["capability"]
    lines = [
        f"{results['task']} on {results['model']}: clean metric {cap['clean_metric']:.3f} "
        f"(accuracy {cap['clean_accuracy']:.2f}), corrupted {cap['corrupt_metric']:.3f}"
    ]
    if not results["can_do"]:
        return lines + ["  the model cannot do this task: not scored"]
    base = next((m["seconds"] for m in results["methods"] if m["method"] == "patching"), None)
    for m in results["methods"]:
        aucs = "  ".join(
            f"{float(t):.2f}:{v:.3f}" + (f"±{m['roc_auc_std'][t]:.3f}" if m["roc_auc_std"] else "")
            for t, v in m["roc_auc"].items()
        )
        speed = f"{base / m['seconds']:7.1f}x" if base else "   n/a"
        lines.append(f"  {m['method']:14s} AUC {aucs:50s} {m['seconds']:8.1f} s {speed}")
    return lines
