"""Influence, pruning and the graph scores, as circuit-tracer defines them (`graph.py` there:
`normalize_matrix`, `compute_influence`, `find_threshold`, `prune_graph`,
`compute_graph_scores`), written to hold one extra copy of the matrix at a time.

- Each target's incoming edges are normalised to absolute values summing to 1 (`Â`).
- A node's influence is `w Â + w Â² + …` with `w` the logit probabilities on the logit nodes:
  how much of the output flows through it, over every path.
- Nodes are kept up to `node_threshold` of the cumulative influence (tokens and logits always),
  edges up to `edge_threshold` of the cumulative edge score `Â'[t, s] (influence'[t] + w[t])`,
  and then, until nothing changes, features and errors without an outgoing kept edge and
  features without an incoming one are dropped.
- Replacement score: the share of the tokens' influence among tokens and errors together.
  Completeness score: the influence-weighted mean share of each node's inputs that are not
  errors."""

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from saekit.analysis.graphs.graph import AttributionGraph

MAX_ITERATIONS = 1000


def normalized(adjacency: Tensor) -> Tensor:
    """`|A|` with each row scaled to sum to 1 (rows of zeros stay zero)."""
    return normalize_(adjacency.clone())


def normalize_(matrix: Tensor) -> Tensor:
    """`normalized`, in place."""
    matrix.abs_()
    return matrix.div_(matrix.sum(1, keepdim=True).clamp_min(1e-10))


def influence(normalized_adjacency: Tensor, weights: Tensor) -> Tensor:
    """`w Â + w Â² + …` (finite: the graph is acyclic)."""
    current = weights @ normalized_adjacency
    total = current.clone()
    for _ in range(MAX_ITERATIONS):
        if not current.any():
            return total
        current = current @ normalized_adjacency
        total += current
    raise RuntimeError("influence did not vanish: the adjacency matrix has a cycle")


def find_threshold(scores: Tensor, fraction: float) -> float:
    """The smallest score among the largest scores that together hold `fraction` of the total
    (keep everything `>=` it); 0 when every score is 0."""
    positive = scores[scores > 0].cpu().numpy()
    if positive.size == 0:
        return 0.0
    ranked = np.sort(positive)[::-1]
    cumulative = np.cumsum(ranked, dtype=np.float64) / ranked.sum(dtype=np.float64)
    index = min(int(np.searchsorted(cumulative, fraction)), ranked.size - 1)
    return float(ranked[index])


def logit_weights(graph: AttributionGraph) -> Tensor:
    weights = torch.zeros(graph.n_nodes, device=graph.adjacency.device)
    weights[graph.logit_start :] = graph.logit_probabilities.float()
    return weights


class PruneResult(NamedTuple):
    node_mask: Tensor
    """`[N]` bool, nodes kept."""
    edge_mask: Tensor
    """`[N, N]` bool, edges kept (`[target, source]`)."""
    cumulative_scores: Tensor
    """`[N]` each node's cumulative share of the influence at its rank (lower: more
    influential); Neuronpedia's `influence` field."""
    influence: Tensor
    """`[N]` each node's influence on the logits (unpruned graph)."""


def _cumulative(scores: Tensor) -> Tensor:
    ranked, order = scores.sort(descending=True)
    out = torch.zeros_like(scores)
    out[order] = ranked.cumsum(0) / ranked.sum().clamp_min(1e-30)
    return out


def prune(
    graph: AttributionGraph, node_threshold: float = 0.8, edge_threshold: float = 0.98
) -> PruneResult:
    """Keep the nodes and edges that carry most of the influence on the logits."""
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    weights = logit_weights(graph)
    node_influence = _influence_of(graph, weights)
    node_mask = node_influence >= find_threshold(node_influence, node_threshold)
    fixed = graph.n_positions + graph.n_logits
    node_mask[-fixed:] = True
    pruned = graph.adjacency.clone()
    pruned[~node_mask] = 0
    pruned[:, ~node_mask] = 0
    pruned = normalize_(pruned)  # Â' in place: one copy of the matrix at a time
    scores = pruned.mul_((influence(pruned, weights) + weights)[:, None])
    edge_mask = scores >= find_threshold(scores, edge_threshold)
    del scores, pruned
    n_features = graph.n_features
    while True:
        before = node_mask.clone()
        edge_mask[~node_mask] = False
        edge_mask[:, ~node_mask] = False
        node_mask[:-fixed] &= edge_mask[:, :-fixed].any(0)
        node_mask[:n_features] &= edge_mask[:n_features].any(1)
        if torch.equal(before, node_mask):
            break
    return PruneResult(node_mask, edge_mask, _cumulative(node_influence), node_influence)


class GraphScores(NamedTuple):
    replacement: float
    """Share of the end-to-end influence from tokens (not errors) on the logits."""
    completeness: float
    """Influence-weighted share of every node's inputs that come from features or tokens."""


def _influence_of(graph: AttributionGraph, weights: Tensor) -> Tensor:
    return influence(normalized(graph.adjacency), weights)


def graph_scores(graph: AttributionGraph) -> GraphScores:
    """The replacement and completeness scores of the unpruned graph."""
    weights = logit_weights(graph)
    norm = normalized(graph.adjacency)
    node_influence = influence(norm, weights)
    errors = slice(graph.n_features, graph.n_features + graph.n_errors)
    tokens = slice(errors.stop, errors.stop + graph.n_positions)
    token_influence = node_influence[tokens].sum()
    error_influence = node_influence[errors].sum()
    replacement = token_influence / (token_influence + error_influence).clamp_min(1e-30)
    non_error = 1 - norm[:, errors].sum(1)
    output = node_influence + weights
    completeness = (non_error * output).sum() / output.sum()
    return GraphScores(float(replacement), float(completeness))
