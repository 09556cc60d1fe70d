"""What the graph viewer shows for a feature node: its top activating contexts on a corpus sample
and the tokens its decoder row promotes through the unembedding."""

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from saekit.analysis.graphs.forward import run_model
from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.models import LanguageModel

CONTEXT = 8
"""Tokens shown before the activating token."""


@dataclass
class FeatureCard:
    layer: int
    feature: int
    promoted: list[str]
    """Tokens the feature's output pushes up most, through the final norm and unembedding."""
    contexts: list[dict]
    """`{"tokens": [...], "activation": float}`, strongest first; the last token is where it
    fires."""


def promoted_tokens(model: LanguageModel, direction: Tensor, n: int = 8) -> list[str]:
    inner = model.module.model
    scores = model.module.lm_head.weight @ (direction * inner.norm.weight)
    return [model.tokenizer.decode([t]) for t in scores.topk(n).indices.tolist()]


@torch.no_grad()
def feature_cards(
    model: LanguageModel,
    transcoders: TranscoderSet,
    graph: AttributionGraph,
    nodes: list[int],
    windows: Tensor,
    special: Tensor,
    top: int = 5,
    batch_size: int = 8,
) -> dict[int, FeatureCard]:
    """Cards for the feature `nodes` of `graph`, their contexts from `windows [n, T]` (special
    positions skipped)."""
    wanted: dict[int, list[int]] = {}
    for node in nodes:
        layer, _, feature = graph.features[node].tolist()
        wanted.setdefault(layer, []).append(feature)
    wanted = {layer: sorted(set(feats)) for layer, feats in wanted.items()}
    values: dict[int, list[Tensor]] = {layer: [] for layer in wanted}
    for start in range(0, windows.shape[0], batch_size):
        ids = windows[start : start + batch_size].to(model.device)
        _, seen = run_model(model.module, ids)
        for layer, feats in wanted.items():
            acts = transcoders.transcoders[layer].encode(seen.mlp_in[layer])[..., feats]
            acts[special[start : start + batch_size].to(acts.device)] = 0
            values[layer].append(acts.flatten(0, 1).cpu())
    T = windows.shape[1]
    cards = {}
    for node in nodes:
        layer, _, feature = graph.features[node].tolist()
        column = torch.cat(values[layer])[:, wanted[layer].index(feature)]
        best = column.topk(min(top, column.numel()))
        contexts = []
        for value, row in zip(best.values.tolist(), best.indices.tolist(), strict=True):
            if value <= 0:
                break
            window, position = divmod(row, T)
            ids = windows[window, max(0, position - CONTEXT) : position + 1].tolist()
            text = [model.tokenizer.decode([t]) for t in ids]
            contexts.append({"tokens": text, "activation": round(value, 3)})
        direction = transcoders.transcoders[layer].W_dec[feature]
        cards[node] = FeatureCard(layer, feature, promoted_tokens(model, direction), contexts)
    return cards


def cards_json(cards: dict[int, FeatureCard], ids: list[str]) -> dict[str, dict]:
    """Cards keyed by the nodes' `node_id`."""
    return {ids[node]: asdict(card) for node, card in cards.items()}
