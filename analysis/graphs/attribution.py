"""Attribution: every direct effect between the nodes of one prompt's replacement model.

With attention patterns and norm denominators frozen and the MLP outputs held fixed, a target's
pre-activation is an affine function of the sources (feature decoder vectors times their
activations, error vectors, token embeddings). Each target's row of the adjacency matrix is its
gradient with respect to the residual stream, contracted with every source vector. The gradient
is carried down the frozen model by its transpose (`_through_attention`), for a batch of targets
at once, starting at the batch's highest layer and at its last position (causality)."""

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from saekit.analysis.graphs.replacement import PromptReplacement
from saekit.analysis.graphs.targets import (
    LogitTargets,
)
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.models import LanguageModel


@dataclass(frozen=True)
class _Targets:
    """What each adjacency row injects: the layer whose MLP input it reads (n_layers: the
    logits), its position, and its vector in the residual stream at that point."""

    layer: Tensor
    position: Tensor
    vectors: Tensor


def _targets(
    model: LanguageModel, transcoders: TranscoderSet, rep: PromptReplacement, logits: LogitTargets
) -> _Targets:
    inner = model.module.model
    feats = rep.features
    device = inner.norm.weight.device
    vectors = torch.empty(
        len(feats) + logits.tokens.numel(), inner.norm.weight.numel(), device=device
    )
    for layer in range(model.n_layers):
        block = feats.layer_range(layer)
        if not block:
            continue
        enc = transcoders.transcoders[layer].W_enc[:, feats.feature[block.start : block.stop]].T
        norm = inner.layers[layer].post_attention_layernorm.weight
        scale = rep.recording.mlp_scales[layer][0, feats.position[block.start : block.stop]]
        vectors[block.start : block.stop] = enc * norm * scale
    unembed = model.module.lm_head.weight
    demeaned = unembed[logits.tokens] - unembed.mean(0)
    last = rep.n_positions - 1
    vectors[len(feats) :] = demeaned * inner.norm.weight * rep.recording.final_scale[0, last]
    n_logits = logits.tokens.numel()
    layer = torch.cat([feats.layer, torch.full((n_logits,), model.n_layers, device=device)])
    position = torch.cat([feats.position, torch.full((n_logits,), last, device=device)])
    return _Targets(layer, position, vectors)


def _through_attention(grad: Tensor, block: nn.Module, pattern: Tensor, scale: Tensor) -> Tensor:
    """The transpose of a frozen attention block (pattern `[H, P, P]`, the norm's inverse RMS
    `[P, 1]`): gradient at its output `[B, P, d]` -> gradient at its residual input."""
    attn = block.self_attn
    B, P, _ = grad.shape
    z = (grad @ attn.o_proj.weight).view(B, P, -1, attn.head_dim)
    v = torch.einsum("hqk,bqhd->bkhd", pattern, z)
    v = v.view(B, P, -1, attn.num_key_value_groups, attn.head_dim).sum(3).reshape(B, P, -1)
    return (v @ attn.v_proj.weight) * block.input_layernorm.weight * scale


def _through_skip(grad: Tensor, transcoder, block: nn.Module, scale: Tensor) -> Tensor | float:
    """The transpose of a transcoder's skip map (MLP input -> output) and of the frozen norm
    before it: gradient at the MLP's output -> at the residual stream before the norm."""
    if not transcoder.cfg.skip:
        return 0.0
    return (grad @ transcoder.W_skip.T) * block.post_attention_layernorm.weight * scale


@dataclass(frozen=True)
class _LayerSources:
    """What one layer's feature nodes write after its MLP, padded per position for one batched
    product: `decoder [P, m, d]` (activation times decoder row; zero rows pad) and `columns
    [P, m]` (each slot's node index, -1 for padding)."""

    decoder: Tensor
    columns: Tensor


@dataclass(frozen=True)
class _Sources:
    """Per layer, what each node writes into the residual stream after that layer's MLP."""

    features: list[_LayerSources]
    errors: list[Tensor]
    """Per layer `[P, d]` error vectors (zero at a BOS position)."""
    embeddings: Tensor
    """`[P, d]` token embeddings."""


def _layer_sources(
    rep: PromptReplacement, transcoders: TranscoderSet, layer: int, width: int
) -> _LayerSources:
    feats = rep.features
    block = feats.layer_range(layer)
    positions = feats.position[block.start : block.stop]
    counts = torch.bincount(positions, minlength=rep.n_positions)
    slots = max(int(counts.max()), 1) if positions.numel() else 1
    starts = torch.cumsum(counts, 0) - counts
    device = positions.device
    slot = torch.arange(positions.numel(), device=device) - starts[positions]
    decoder = torch.zeros(rep.n_positions, slots, width, device=device)
    columns = torch.full((rep.n_positions, slots), -1, dtype=torch.long, device=device)
    rows = feats.feature[block.start : block.stop]
    scale = feats.activation[block.start : block.stop, None]
    decoder[positions, slot] = transcoders.transcoders[layer].W_dec[rows] * scale
    columns[positions, slot] = torch.arange(block.start, block.stop, device=device)
    return _LayerSources(decoder, columns)


def _sources(model: LanguageModel, transcoders: TranscoderSet, rep: PromptReplacement) -> _Sources:
    width = model.module.config.hidden_size
    features, errors = [], []
    for layer in range(model.n_layers):
        features.append(_layer_sources(rep, transcoders, layer, width))
        error = rep.errors[layer].clone()
        error[: rep.first_node_position] = 0
        errors.append(error)
    return _Sources(features, errors, model.module.model.embed_tokens(rep.tokens))


def _contract(adjacency: Tensor, rows: Tensor, grad: Tensor, layer: _LayerSources) -> None:
    """Write the edges from one layer's features to the batch's targets: `grad [B, W, d]` at
    the layer's output, contracted position by position with the features written there."""
    width = grad.shape[1]
    effects = torch.bmm(grad.transpose(0, 1), layer.decoder[:width].transpose(1, 2))
    columns = layer.columns[:width].flatten()
    real = columns >= 0
    if real.any():
        flat = effects.permute(1, 0, 2).reshape(grad.shape[0], -1)
        adjacency[rows[:, None], columns[real][None, :]] = flat[:, real]


def _batches(targets: _Targets, batch_size: int) -> Iterator[Tensor]:
    """Row indices, highest layer and latest position first, in batches."""
    order = torch.argsort(
        targets.layer * (targets.position.max() + 1) + targets.position, descending=True
    )
    yield from order.split(batch_size)


@dataclass(frozen=True)
class RowWriter:
    """Computes adjacency rows for batches of targets (feature nodes, then logit nodes, in
    `target` numbering) and writes them into any matrix with the graph's columns."""

    model: LanguageModel
    transcoders: TranscoderSet
    rep: PromptReplacement
    targets: _Targets
    sources: _Sources
    n_nodes: int
    n_logits: int

    @classmethod
    def of(
        cls,
        model: LanguageModel,
        transcoders: TranscoderSet,
        rep: PromptReplacement,
        logits: LogitTargets,
    ) -> "RowWriter":
        n_logits = logits.tokens.numel()
        n_nodes = len(rep.features) + (model.n_layers + 1) * rep.n_positions + n_logits
        targets = _targets(model, transcoders, rep, logits)
        return cls(
            model, transcoders, rep, targets, _sources(model, transcoders, rep), n_nodes, n_logits
        )

    @property
    def node_of(self) -> Tensor:
        """Each target's node index."""
        n_feat = len(self.rep.features)
        device = self.targets.layer.device
        logits = torch.arange(self.n_nodes - self.n_logits, self.n_nodes, device=device)
        return torch.cat([torch.arange(n_feat, device=device), logits])

    def write(self, batch: Tensor, dest: Tensor, rows: Tensor) -> None:
        """The rows of targets `batch` into `dest[rows]`."""
        n_layers, n_feat, P = self.model.n_layers, len(self.rep.features), self.rep.n_positions
        layers, recording, sources = (
            self.model.module.model.layers,
            self.rep.recording,
            self.sources,
        )
        t_layer, t_pos = self.targets.layer[batch], self.targets.position[batch]
        t_vec = self.targets.vectors[batch]
        width = int(t_pos.max()) + 1
        grad = torch.zeros(batch.numel(), width, t_vec.shape[1], device=t_vec.device)
        arange = torch.arange(batch.numel(), device=t_vec.device)
        at_top = t_layer == n_layers
        grad[arange[at_top], t_pos[at_top]] = t_vec[at_top]
        for layer in range(min(int(t_layer.max()), n_layers - 1), -1, -1):
            _contract(dest, rows, grad, sources.features[layer])
            start = n_feat + layer * P
            dest[rows, start : start + width] = torch.einsum(
                "bpd,pd->bp", grad, sources.errors[layer][:width]
            )
            mlp_scale = recording.mlp_scales[layer][0, :width]
            grad = grad + _through_skip(
                grad, self.transcoders.transcoders[layer], layers[layer], mlp_scale
            )
            here = t_layer == layer
            grad[arange[here], t_pos[here]] += t_vec[here]
            pattern = recording.patterns[layer][0, :, :width, :width]
            scale = recording.attn_scales[layer][0, :width]
            grad = grad + _through_attention(grad, layers[layer], pattern, scale)
        start = n_feat + n_layers * P
        dest[rows, start : start + width] = torch.einsum(
            "bpd,pd->bp", grad, sources.embeddings[:width]
        )


@torch.no_grad()
def attribute_rows(
    model: LanguageModel,
    transcoders: TranscoderSet,
    rep: PromptReplacement,
    logits: LogitTargets,
    batch_size: int = 32,
    progress: bool = True,
) -> Tensor:
    """The adjacency matrix `[N, N]` (node order as `AttributionGraph`), every active feature a
    row."""
    writer = RowWriter.of(model, transcoders, rep, logits)
    adjacency = torch.zeros(writer.n_nodes, writer.n_nodes, device=model.device)
    node_of = writer.node_of
    n_batches = -(-writer.targets.layer.numel() // batch_size)
    for batch in tqdm(
        _batches(writer.targets, batch_size),
        total=n_batches,
        desc="attribute",
        disable=not progress,
    ):
        writer.write(batch, adjacency, node_of[batch])
    return adjacency
