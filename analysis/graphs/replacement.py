"""The local replacement model of one prompt: the real model's run recorded (attention patterns,
norm denominators, MLP inputs and outputs), each MLP's output split into its transcoder's active
features and an error term, so that features plus errors give back the real output exactly.

The first position, when it is BOS, is an attention sink whose activations are the same for
every prompt: its features and error are kept in the forward pass but are not graph nodes (their
effect counts with the biases), as circuit-tracer does."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from saekit.analysis.graphs.forward import Freeze, MlpFn, Recording, run_model
from saekit.analysis.graphs.transcoders import TranscoderSet
from saekit.models import LanguageModel

Activation = Literal["recomputed", "fixed-set"]
"""How a replacement run computes feature activations from its MLP inputs: with the
transcoders' own activation function (`recomputed`), or as the pre-activations of the clean
run's active features only (`fixed-set`: the replacement model is then linear)."""


@dataclass(frozen=True)
class ActiveFeatures:
    """The active transcoder features that are graph nodes, ordered by (layer, position,
    feature)."""

    layer: Tensor
    """`[n]` long."""
    position: Tensor
    """`[n]` long."""
    feature: Tensor
    """`[n]` long."""
    activation: Tensor
    """`[n]` float, their activations on the prompt."""

    def __len__(self) -> int:
        return self.layer.numel()

    def layer_range(self, layer: int) -> range:
        """Indices of the features of `layer` (a contiguous block, by position)."""
        start = int(torch.searchsorted(self.layer, layer))
        end = int(torch.searchsorted(self.layer, layer, right=True))
        return range(start, end)


@dataclass
class PromptReplacement:
    """One prompt's replacement model."""

    tokens: Tensor
    """`[P]` the prompt's token ids."""
    logits: Tensor
    """`[P, vocab]` the real model's logits."""
    recording: Recording
    """The real run (batch 1)."""
    latents: list[Tensor]
    """Per layer `[P, d_sae]` the transcoder's activations (dense)."""
    reconstructions: list[Tensor]
    """Per layer `[P, d]` the transcoder's output (its skip term included)."""
    errors: list[Tensor]
    """Per layer `[P, d]` real MLP output minus the transcoder's reconstruction."""
    features: ActiveFeatures
    first_node_position: int
    """1 when position 0 is BOS (not a node), else 0."""

    @property
    def n_positions(self) -> int:
        return self.tokens.numel()


def check_tokens(model: LanguageModel, tokens: Tensor) -> None:
    limit = model.module.config.max_position_embeddings
    if tokens.dim() != 1 or tokens.numel() < 1:
        raise ValueError("a graph is built for one prompt: pass a non-empty 1-D token sequence")
    if tokens.numel() > limit:
        raise ValueError(
            f"the prompt has {tokens.numel()} tokens, past {model.spec}'s context length "
            f"{limit}: shorten it"
        )


@torch.no_grad()
def build_replacement(
    model: LanguageModel, transcoders: TranscoderSet, tokens: Tensor
) -> PromptReplacement:
    """Run the real model on `tokens [P]` and split every MLP output into transcoder features
    and an error term."""
    transcoders.check_model(model)
    check_tokens(model, tokens)
    tokens = tokens.to(model.device)
    logits, recording = run_model(model.module, tokens[None])
    bos = model.tokenizer.bos_token_id
    first = 1 if bos is not None and int(tokens[0]) == bos else 0
    latents, reconstructions, errors, found = [], [], [], []
    for layer in range(model.n_layers):
        transcoder = transcoders.transcoders[layer]
        mlp_in = recording.mlp_in[layer][0]
        acts = transcoder.encode(mlp_in)
        latents.append(acts)
        reconstructions.append(transcoder.decode(acts) + transcoder.skip_term(mlp_in))
        errors.append(recording.mlp_out[layer][0] - reconstructions[-1])
        position, feature = acts[first:].nonzero(as_tuple=True)
        if position.numel() == 0 and tokens.numel() > first:
            raise ValueError(
                f"no transcoder feature is active at layer {layer} on this prompt: the layer's "
                "transcoder reads nothing here (retrain it, or check it belongs to this model)"
            )
        found.append((layer, position + first, feature, acts[position + first, feature]))
    features = ActiveFeatures(
        layer=torch.cat([torch.full_like(p, layer) for layer, p, _, _ in found]),
        position=torch.cat([p for _, p, _, _ in found]),
        feature=torch.cat([f for _, _, f, _ in found]),
        activation=torch.cat([a for *_, a in found]),
    )
    return PromptReplacement(
        tokens, logits[0], recording, latents, reconstructions, errors, features, first
    )


def replacement_mlp(
    replacement: PromptReplacement,
    transcoders: TranscoderSet,
    activation: Activation = "recomputed",
    interventions: Sequence[tuple[int, int, int, float]] = (),
) -> MlpFn:
    """Each MLP replaced by its transcoder plus the prompt's (frozen) error term; each
    intervention `(layer, position, feature, value)` sets that feature's activation."""
    by_layer: dict[int, list[tuple[int, int, float]]] = {}
    for layer, position, feature, value in interventions:
        by_layer.setdefault(layer, []).append((position, feature, value))

    def mlp(layer: int, mlp_in: Tensor) -> Tensor:
        transcoder = transcoders.transcoders[layer]
        if activation == "recomputed":
            acts = transcoder.encode(mlp_in)
        else:
            active = replacement.latents[layer] > 0
            acts = transcoder.pre_activations(mlp_in) * active
        for position, feature, value in by_layer.get(layer, ()):
            acts = acts.clone()
            acts[:, position, feature] = value
        # decode(acts) + error, as the real output plus the reconstruction's change: the clean
        # inputs then give the real output bit for bit
        clean = replacement.recording.mlp_out[layer]
        output = transcoder.decode(acts) + transcoder.skip_term(mlp_in)
        return clean + (output - replacement.reconstructions[layer])

    return mlp


def run_replacement(
    model: LanguageModel,
    replacement: PromptReplacement,
    transcoders: TranscoderSet,
    activation: Activation = "recomputed",
    interventions: Sequence[tuple[int, int, int, float]] = (),
    freeze_attention: bool = False,
    freeze_norms: bool = False,
) -> Tensor:
    """Logits `[P, vocab]` of the replacement model on the prompt, after `interventions`, with
    attention patterns and norm denominators recomputed or frozen at the clean run's."""
    mlp = replacement_mlp(replacement, transcoders, activation, interventions)
    freeze = None
    if freeze_attention or freeze_norms:
        freeze = Freeze(replacement.recording, attention=freeze_attention, norms=freeze_norms)
    with torch.no_grad():
        logits, _ = run_model(model.module, replacement.tokens[None], mlp, freeze)
    return logits[0]
