"""`saekit graph`: attribute one prompt, prune, score, validate against the model, write
everything a viewer needs into one folder:

- `graph.safetensors` + `graph.json`: the full graph (`graph.py`);
- `pruned.safetensors`: the kept nodes and edges (with weights), every node's influence;
- `graph_summary.json`: counts, scores, timings, peak memory, the validation (three selections:
  `validation.SELECTIONS`);
- `cards.json`: top contexts and promoted tokens of the kept features;
- `neuronpedia/<slug>.json` + `graph-metadata.json`: the graph for Neuronpedia's viewer."""

import json
import re
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from saekit.analysis.graphs.cards import cards_json, feature_cards
from saekit.analysis.graphs.export import neuronpedia_json, node_ids, write_neuronpedia
from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.prompt_graph import graph_of
from saekit.analysis.graphs.pruning import PruneResult, graph_scores, prune
from saekit.analysis.graphs.replacement import build_replacement
from saekit.analysis.graphs.targets import prompt_tokens
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.analysis.graphs.validation import SELECTIONS, validate_selections
from saekit.artifacts import write_atomic, write_text_atomic
from saekit.collect_inputs import text_inputs
from saekit.data.text import DEFAULT_CORPUS
from saekit.models import LanguageModel

SUMMARY = "graph_summary.json"
PRUNED = "pruned.safetensors"
CARDS = "cards.json"


@dataclass
class GraphConfig:
    """How to build, prune and check one prompt's attribution graph."""

    prompt: str = field(kw_only=True)
    """The prompt (BOS is prepended)."""
    targets: list[str] | None = None
    """Next tokens to explain (each must be one token; default: the top logits)."""
    max_logits: int = 10
    """At most this many top logits as targets."""
    logit_probability: float = 0.95
    """Top logits are taken until their probability reaches this."""
    node_threshold: float = 0.8
    """Pruning keeps nodes up to this share of the cumulative influence."""
    edge_threshold: float = 0.98
    """Pruning keeps edges up to this share of the cumulative edge score."""
    batch_size: int = 32
    """Adjacency rows per transposed pass."""
    max_feature_nodes: int | None = None
    """Attribute at most this many features, the most influential found (None: every active
    feature; memory grows with it times the active features instead of their square)."""
    interventions: int = 20
    """Kept features intervened on to validate the graph, in three selections: those the graph
    predicts move the top logit most, the same at the last position, the most influential (0:
    skip)."""
    context_windows: int = 64
    """Corpus windows searched for the kept features' top contexts (0: no contexts)."""
    data: str = DEFAULT_CORPUS
    """Corpus for the features' contexts."""

    def __post_init__(self) -> None:
        for name in ("node_threshold", "edge_threshold", "logit_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.max_logits < 1 or self.batch_size < 1:
            raise ValueError("max_logits and batch_size must be positive")
        if self.max_feature_nodes is not None and self.max_feature_nodes < 1:
            raise ValueError(f"max_feature_nodes must be positive, got {self.max_feature_nodes}")


def target_ids(model: LanguageModel, targets: list[str]) -> list[int]:
    ids = []
    for text in targets:
        encoded = model.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(encoded) != 1:
            raise ValueError(
                f"target {text!r} is {len(encoded)} tokens in {model.spec}'s vocabulary: a logit "
                "target must be one token (mind the leading space, e.g. ' Paris')"
            )
        ids.append(encoded[0])
    return ids


def save_pruned(graph: AttributionGraph, pruned: PruneResult, folder: Path) -> None:
    targets, sources = pruned.edge_mask.nonzero(as_tuple=True)
    tensors = {
        "nodes": pruned.node_mask.nonzero().flatten(),
        "edge_targets": targets,
        "edge_sources": sources,
        "edge_weights": graph.adjacency[targets, sources],
        "influence": pruned.influence,
        "cumulative_scores": pruned.cumulative_scores,
    }
    tensors = {k: v.cpu().contiguous() for k, v in tensors.items()}
    write_atomic(folder / PRUNED, lambda tmp: save_file(tensors, str(tmp)))


def load_pruned(folder: str | Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(folder) / PRUNED))


def slug_of(prompt: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:48] or "graph"


def peak_memory_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_graph(
    model: LanguageModel,
    transcoders: TranscoderSet,
    config: GraphConfig,
    out: str | Path,
    transcoders_path: str = "",
    progress: bool = True,
) -> dict:
    """Build, prune, score, validate and write one prompt's graph; returns the summary."""
    out = Path(out)
    targets = target_ids(model, config.targets) if config.targets else None
    start = time.perf_counter()
    rep = build_replacement(model, transcoders, prompt_tokens(model, config.prompt))
    graph = graph_of(
        model,
        transcoders,
        rep,
        config.prompt,
        targets,
        config.max_logits,
        config.logit_probability,
        config.batch_size,
        progress,
        config.max_feature_nodes,
    )
    graph.transcoders = transcoders_path
    attributed = time.perf_counter() - start
    pruned = prune(graph, config.node_threshold, config.edge_threshold)
    scores = graph_scores(graph)
    seconds = time.perf_counter() - start
    peak = peak_memory_mb()
    graph.save(out)
    save_pruned(graph, pruned, out)
    ids = node_ids(graph)
    kept_features = pruned.node_mask[: graph.n_features].nonzero().flatten().tolist()
    summary = {
        "prompt": config.prompt,
        "model": model.spec,
        "tokens": graph.token_strings,
        "logits": [
            {"token": s, "probability": float(p)}
            for s, p in zip(graph.logit_strings, graph.logit_probabilities, strict=True)
        ],
        "nodes": {
            "features": graph.n_features,
            "errors": graph.n_errors,
            "tokens": graph.n_positions,
            "logits": graph.n_logits,
            "kept": int(pruned.node_mask.sum()),
            "kept_features": len(kept_features),
        },
        "edges": {
            "nonzero": int((graph.adjacency != 0).sum()),
            "kept": int(pruned.edge_mask.sum()),
        },
        "scores": scores._asdict(),
        "seconds": {"attribution": attributed, "graph": seconds},
        "peak_memory_mb": peak,
        "thresholds": {"node": config.node_threshold, "edge": config.edge_threshold},
    }
    if config.interventions:
        checks = validate_selections(
            model, rep, transcoders, graph, pruned, SELECTIONS, config.interventions
        )
        for key, checked in checks.items():
            summary[key] = asdict(checked) | {
                "interventions": [
                    asdict(x) | {"node_id": ids[x.node]} for x in checked.interventions
                ]
            }
    cards = {}
    if config.context_windows:
        windows = text_inputs(
            model, config.data, config.context_windows * 64, 64, "prepend", True, 1
        )
        cards = feature_cards(
            model, transcoders, graph, kept_features, windows.inputs, ~windows.keep
        )
    write_text_atomic(out / CARDS, json.dumps(cards_json(cards, ids)))
    slug = slug_of(config.prompt)
    document = neuronpedia_json(graph, pruned, slug, model.spec, config.node_threshold)
    write_neuronpedia(document, out / "neuronpedia")
    write_text_atomic(out / SUMMARY, json.dumps(summary, indent=1))
    return summary
