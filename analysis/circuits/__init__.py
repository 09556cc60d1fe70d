"""Circuit discovery: tasks with clean / corrupted prompts, two per-head ground truths (activation
patching; the heads' response to the corruption), attribution patching (plain and integrated),
the discrete-SAE-code method, scores against the truths, and feature circuits over spliced
dictionaries."""

from saekit.analysis.circuits.discrete_sae import (
    DiscreteSAECircuit,
    DiscreteSAEConfig,
    discrete_sae_circuit,
    paper_l1_coefficient,
)
from saekit.analysis.circuits.features import FeatureCircuit, FeatureNode, feature_circuit
from saekit.analysis.circuits.heads import (
    Capability,
    HeadEffects,
    capability,
    head_effects,
    metric_with_heads_ablated,
)
from saekit.analysis.circuits.scoring import (
    CircuitScore,
    TruthSet,
    patching_truth,
    response_truth,
    roc_auc,
    score_against_sets,
    score_against_truth,
)
from saekit.analysis.circuits.tasks import (
    TASKS,
    PromptPair,
    Task,
    encode_pairs,
    load_prompt_pairs,
    make_task,
    task_from_pairs,
)
from saekit.analysis.circuits.writes import head_responses, head_writes

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
    "TruthSet",
    "capability",
    "discrete_sae_circuit",
    "encode_pairs",
    "feature_circuit",
    "head_effects",
    "head_responses",
    "head_writes",
    "load_prompt_pairs",
    "make_task",
    "metric_with_heads_ablated",
    "paper_l1_coefficient",
    "patching_truth",
    "response_truth",
    "roc_auc",
    "score_against_sets",
    "score_against_truth",
    "task_from_pairs",
]
