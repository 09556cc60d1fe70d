"""Attribution graphs: a transcoder for every MLP (trained on one pass), one prompt's local
replacement model (attention patterns and norm scales frozen, error terms kept), every direct
effect between its active features, errors, tokens and logits, circuit-tracer's pruning and
scores, validation by interventions in the model, and the Neuronpedia export."""

from saekit.analysis.graphs.evaluate import TranscoderSetEval, evaluate_set
from saekit.analysis.graphs.graph import AttributionGraph, load_graph
from saekit.analysis.graphs.prompt_graph import attribute
from saekit.analysis.graphs.pruning import GraphScores, PruneResult, graph_scores, prune
from saekit.analysis.graphs.replacement import PromptReplacement, build_replacement
from saekit.analysis.graphs.run import GraphConfig, run_graph
from saekit.analysis.graphs.transcoders import (
    TranscoderSet,
    TranscoderSetConfig,
    load_transcoder_set,
    train_transcoder_set,
)
from saekit.analysis.graphs.validation import Validation, validate

__all__ = [
    "AttributionGraph",
    "GraphConfig",
    "GraphScores",
    "PromptReplacement",
    "PruneResult",
    "TranscoderSet",
    "TranscoderSetConfig",
    "TranscoderSetEval",
    "Validation",
    "attribute",
    "build_replacement",
    "evaluate_set",
    "graph_scores",
    "load_graph",
    "load_transcoder_set",
    "prune",
    "run_graph",
    "train_transcoder_set",
    "validate",
]
