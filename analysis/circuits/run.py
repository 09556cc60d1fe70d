"""One task, every method, scored against patching: what `saekit circuits`, the recipe and the
benchmark run. Writes `circuits.json`, a head-grid heatmap per method and a ROC plot."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from saekit.analysis.circuits.contexts import FeatureContexts
from saekit.analysis.circuits.features import feature_circuit
from saekit.analysis.circuits.heads import capability, head_effects
from saekit.analysis.circuits.methods import METHODS, MethodInputs
from saekit.analysis.circuits.plots import roc_plot
from saekit.analysis.circuits.results import save_circuits
from saekit.analysis.circuits.scoring import THRESHOLDS, patching_truth, response_truth
from saekit.analysis.circuits.tasks import load_prompt_pairs, make_task, task_from_pairs
from saekit.analysis.circuits.writes import head_responses
from saekit.models import LanguageModel
from saekit.sae import load


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
    pairs: str | None = None
    """A JSONL file of your own prompt pairs (clean, corrupted, answer, wrong on each line),
    used instead of --task; the metric is logit[answer] - logit[wrong]."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}: choose from {', '.join(METHODS)}")


def run_circuits(model: LanguageModel, config: CircuitsConfig, out: str | Path) -> dict:
    """Run and score every method on one task; returns (and writes) the results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if config.pairs:
        pairs = load_prompt_pairs(config.pairs)
        task = task_from_pairs(model.tokenizer, pairs, Path(config.pairs).stem)
    else:
        task = make_task(config.task, model.tokenizer, config.prompts, config.seed)
    able = capability(model, task)
    results: dict = {"task": task.name, "model": model.spec, "capability": asdict(able)}
    results["can_do"] = able.can_do
    if not able.can_do:
        results["note"] = "the model cannot do this task: not scored"
        save_circuits(results, out)
        return results
    truth = head_effects(model, task, "patching") if "patching" in config.methods else None
    truths = {}
    if truth is not None:
        responses = head_responses(model, task)
        truths = {
            "patching": patching_truth(truth.effects),
            "response": response_truth(truth.effects, responses),
        }
        results["truth"] = truth.to_dict() | {"thresholds": list(THRESHOLDS)}
        results["responses"] = responses.tolist()
    inputs = MethodInputs(
        model, task, task.name, truth, out, config.trials, config.sae_prompts, config.seed, truths
    )
    methods = [METHODS[method](inputs) for method in config.methods]
    if truth is not None:
        roc_truth = truth.effects.abs() >= THRESHOLDS[1]
        roc = {m.method: m.scores for m in methods if m.method != "patching"}
        roc_plot(
            roc, roc_truth, f"{task.name} (truth: |effect| >= {THRESHOLDS[1]})", out / "roc.png"
        )
    results["methods"] = [asdict(m) | {"scores": m.scores.tolist()} for m in methods]
    if config.dictionaries:
        results["feature_circuit"] = _feature_circuit(model, task, config)
    save_circuits(results, out)
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


def summary_lines(results: dict) -> list[str]:
    """A plain-text table: per method and truth, ROC-AUC per threshold, wall time, speed-up."""
    cap = results["capability"]
    lines = [
        f"{results['task']} on {results['model']}: clean metric {cap['clean_metric']:.3f} "
        f"(accuracy {cap['clean_accuracy']:.2f}), corrupted {cap['corrupt_metric']:.3f}"
    ]
    if not results["can_do"]:
        return lines + ["  the model cannot do this task: not scored"]
    base = next((m["seconds"] for m in results["methods"] if m["method"] == "patching"), None)
    for m in results["methods"]:
        speed = f"{base / m['seconds']:7.1f}x" if base else "   n/a"
        for truth, by_threshold in m["roc_auc"].items():
            std = m["roc_auc_std"].get(truth, {})
            aucs = "  ".join(
                f"{float(t):.2f}:{v:.3f}" + (f"±{std[t]:.3f}" if t in std else "")
                for t, v in by_threshold.items()
            )
            lines.append(
                f"  {m['method']:20s} {truth:9s} AUC {aucs:50s} {m['seconds']:8.1f} s {speed}"
            )
    return lines
