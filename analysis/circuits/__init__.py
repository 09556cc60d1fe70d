"""Circuit discovery: tasks with clean / corrupted prompts, per-head ground truth by activation
patching, attribution patching, the discrete-SAE-code method, scores against the truth, and
feature circuits over spliced dictionaries."""

from saekit.analysis.circuits.discrete_sae import (
    DiscreteSAECircuit,
    DiscreteSAEConfig,
    discrete_sae_circuit,
)
from saekit.analysis.circuits.features import FeatureCircuit, FeatureNode, feature_circuit
from saekit.analysis.circuits.heads import Capability, HeadEffects, capability, head_effects
from saekit.analysis.circuits.scoring import CircuitScore, roc_auc, score_against_truth
from saekit.analysis.circuits.tasks import TASKS, Task, make_task

__all__ = [
    "TASKS",
    "Capability",
    "CircuitScore",
    "DiscreteSAECircuit",
    "DiscreteSAEConfig",
    "FeatureCircuit",
    "FeatureNode",
    "HeadEffects",
    "Task",
    "capability",
    "discrete_sae_circuit",
    "feature_circuit",
    "head_effects",
    "make_task",
    "roc_auc",
    "score_against_truth",
]
