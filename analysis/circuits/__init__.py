"""Circuit discovery: tasks with clean / corrupted prompts, per-head ground truth by activation
patching, attribution patching, the discrete-SAE-code method, scores against the truth, and
feature circuits over spliced dictionaries."""

from saekit.analysis.circuits.discrete_sae import (
    DiscreteSAECircuit,
    DiscreteSAEConfig,
    discrete_sae_circuit,
)
from saekit.analysis.circuits.features import FeatureCircuit, FeatureNode, feature_circuit
from saekit.analysis.circuits.heads import (
    Capability,
    HeadEffects,
    capability,
    head_effects,
    metric_with_heads_ablated,
)
from saekit.analysis.circuits.scoring import CircuitScore, roc_auc, score_against_truth
from saekit.analysis.circuits.tasks import (
    TASKS,
    PromptPair,
    Task,
    encode_pairs,
    load_prompt_pairs,
    make_task,
    task_from_pairs,
)

__all__ = [
    "TASKS",
    "Capability",
    "CircuitScore",
    "DiscreteSAECircuit",
    "DiscreteSAEConfig",
    "FeatureCircuit",
    "FeatureNode",
    "HeadEffects",
    "PromptPair",
    "Task",
    "capability",
    "discrete_sae_circuit",
    "encode_pairs",
    "feature_circuit",
    "head_effects",
    "load_prompt_pairs",
    "make_task",
    "metric_with_heads_ablated",
    "roc_auc",
    "score_against_truth",
    "task_from_pairs",
]
