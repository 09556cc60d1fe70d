"""Attribution under a cap on feature nodes (circuit-tracer's `max_feature_nodes`): the logit
rows first, then, every few batches, the influence on the logits is estimated from the rows
computed so far and the most influential unvisited features are attributed next. Features never
visited are left out of the graph, as rows and as columns, so memory grows with the cap times the
active features instead of the active features squared."""

from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from saekit.analysis.graphs.attribution import RowWriter
from saekit.analysis.graphs.pruning import MAX_ITERATIONS, normalize_

UPDATE_INTERVAL = 4
"""Batches between influence estimates."""


@dataclass(frozen=True)
class RankedGraph:
    features: Tensor
    """`[n]` the visited features' indices among the active features, ascending."""
    adjacency: Tensor
    """`[M, M]` over the visited features, every error and token node, and the logits."""


def partial_influence(rows: Tensor, row_nodes: Tensor, weights: Tensor) -> Tensor:
    """Influence of every column node on the logits through the computed `rows` only (their
    nodes `row_nodes`); `weights` are the logit probabilities, indexed as the last rows."""
    norm = normalize_(rows.clone())
    current = torch.zeros(rows.shape[1], device=rows.device)
    current[row_nodes[-weights.numel() :]] = weights
    total = torch.zeros(rows.shape[1], device=rows.device)
    for _ in range(MAX_ITERATIONS):
        current = current[row_nodes] @ norm
        if not current.any():
            break
        total += current
    return total


@torch.no_grad()
def attribute_ranked(
    writer: RowWriter,
    max_feature_nodes: int,
    probabilities: Tensor,
    batch_size: int = 32,
    progress: bool = True,
) -> RankedGraph:
    """Rows for the logits and for at most `max_feature_nodes` features, chosen by their
    estimated influence; the graph over the visited features."""
    n_feat, n_logits = len(writer.rep.features), writer.n_logits
    cap = min(max_feature_nodes, n_feat)
    device = probabilities.device
    rows = torch.zeros(cap + n_logits, writer.n_nodes, device=device)  # features', then logits'
    logit_rows = torch.arange(cap, cap + n_logits, device=device)
    writer.write(torch.arange(n_feat, n_feat + n_logits, device=device), rows, logit_rows)
    order = torch.empty(0, dtype=torch.long, device=device)  # visited features, in row order
    logit_nodes = writer.node_of[n_feat:]
    with tqdm(total=cap, desc="attribute", disable=not progress) as bar:
        while order.numel() < cap:
            filled = torch.cat([torch.arange(order.numel(), device=device), logit_rows])
            row_nodes = torch.cat([order, logit_nodes])  # a feature's node index is its index
            score = partial_influence(rows[filled], row_nodes, probabilities)[:n_feat]
            score[order] = -torch.inf
            take = min(UPDATE_INTERVAL * batch_size, cap - order.numel())
            for chunk in score.topk(take).indices.split(batch_size):
                slots = torch.arange(order.numel(), order.numel() + chunk.numel(), device=device)
                writer.write(chunk, rows, slots)
                order = torch.cat([order, chunk])
                bar.update(chunk.numel())
    return _subgraph(rows, order, n_feat, n_logits)


def _subgraph(rows: Tensor, order: Tensor, n_feat: int, n_logits: int) -> RankedGraph:
    """The adjacency over the visited features (ascending), errors, tokens and logits."""
    features = order.sort().values
    device = rows.device
    slot_of = torch.empty(n_feat, dtype=torch.long, device=device)
    slot_of[order] = torch.arange(order.numel(), device=device)
    columns = torch.cat([features, torch.arange(n_feat, rows.shape[1], device=device)])
    size = columns.numel()
    adjacency = torch.zeros(size, size, device=device)
    adjacency[: features.numel()] = rows[slot_of[features]][:, columns]
    adjacency[size - n_logits :] = rows[order.numel() :][:, columns]
    return RankedGraph(features, adjacency)
