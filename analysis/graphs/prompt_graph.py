"""One prompt's attribution graph: its replacement model, its logit targets, the adjacency
matrix (every active feature a row, or the most influential under a cap), assembled as an
`AttributionGraph`."""

from typing import Any

import torch
from torch import Tensor

from saekit.analysis.graphs.attribution import RowWriter, attribute_rows
from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.ranked import attribute_ranked
from saekit.analysis.graphs.replacement import PromptReplacement, build_replacement
from saekit.analysis.graphs.targets import chosen_logits, prompt_tokens, top_logits
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.models import LanguageModel


@torch.no_grad()
def attribute(
    model: LanguageModel, transcoders: TranscoderSet, prompt: str | Tensor, **options: Any
) -> AttributionGraph:
    """The attribution graph of `prompt` (text, BOS prepended, or token ids [P]): every direct
    effect between its active features, error nodes, token embeddings and top logits; `options`
    are `graph_of`'s (logit targets, batch size, progress, the feature cap)."""
    tokens = prompt_tokens(model, prompt)
    rep = build_replacement(model, transcoders, tokens)
    text = prompt if isinstance(prompt, str) else model.tokenizer.decode(tokens)
    return graph_of(model, transcoders, rep, text, **options)


@torch.no_grad()
def graph_of(
    model: LanguageModel,
    transcoders: TranscoderSet,
    rep: PromptReplacement,
    prompt: str,
    logit_tokens: list[int] | None = None,
    max_logits: int = 10,
    logit_probability: float = 0.95,
    batch_size: int = 32,
    progress: bool = True,
    max_feature_nodes: int | None = None,
) -> AttributionGraph:
    """The attribution graph of a prompt whose replacement model is built: the logits
    `logit_tokens`, or the top ones up to `logit_probability` (at most `max_logits`); with
    `max_feature_nodes`, only that many features, the most influential found (`ranked.py`)."""
    tokens = rep.tokens
    last = rep.logits[-1]
    if logit_tokens is None:
        logits = top_logits(last, max_logits, logit_probability)
    else:
        logits = chosen_logits(last, logit_tokens)
    feats = rep.features
    kept = torch.arange(len(feats), device=model.device)
    if max_feature_nodes is not None and max_feature_nodes < len(feats):
        writer = RowWriter.of(model, transcoders, rep, logits)
        ranked = attribute_ranked(
            writer, max_feature_nodes, logits.probabilities, batch_size, progress
        )
        kept, adjacency = ranked.features, ranked.adjacency
    else:
        adjacency = attribute_rows(model, transcoders, rep, logits, batch_size, progress)
    tokenizer = model.tokenizer
    return AttributionGraph(
        model=model.spec,
        prompt=prompt,
        tokens=tokens.cpu(),
        token_strings=[tokenizer.decode([t]) for t in tokens.tolist()],
        n_layers=model.n_layers,
        features=torch.stack([feats.layer, feats.position, feats.feature], 1)[kept].cpu(),
        activations=feats.activation[kept].cpu(),
        logit_tokens=logits.tokens.cpu(),
        logit_probabilities=logits.probabilities.cpu(),
        logit_strings=[tokenizer.decode([t]) for t in logits.tokens.tolist()],
        adjacency=adjacency.cpu(),  # pruning and scores run on the CPU, as circuit-tracer's
    )
