"""Shared by the graph tests: a random transcoder set for the tiny test Llama (every layer,
TopK), and the frozen replacement model's node values computed directly (the reference the
adjacency matrix is checked against)."""

import torch

from saekit.analysis.graphs.forward import Freeze, run_model
from saekit.analysis.graphs.transcoders import TranscoderSet, input_hook, output_hook
from saekit.sae import DictionaryConfig, build


def random_transcoders(
    model, d_sae: int = 48, k: int = 6, seed: int = 0, skip: bool = False
) -> TranscoderSet:
    torch.manual_seed(seed)
    d = model.module.config.hidden_size
    found = TranscoderSet(model.spec, d, model.n_layers)
    for layer in range(model.n_layers):
        cfg = DictionaryConfig(
            architecture="topk",
            d_in=d,
            d_out=d,
            d_sae=d_sae,
            k=k,
            skip=skip,
            hook_name=input_hook(layer),
            hook_name_out=output_hook(layer),
        )
        transcoder = build(cfg).eval()
        with torch.no_grad():
            transcoder.W_enc.normal_(0, 0.3)
            transcoder.b_enc.normal_(0.2, 0.1)
            transcoder.W_dec.normal_(0, 0.05)
            transcoder.b_dec.normal_(0, 0.1)
            if skip:
                transcoder.W_skip.normal_(0, 0.1)
        found.transcoders[layer] = transcoder.requires_grad_(False)
    return found


def frozen_values(model, rep, transcoders, graph, constants, embeddings):
    """Every feature node's pre-activation and every logit node's logit minus the mean logit,
    with attention and norms frozen and each MLP output replaced by a constant `[P, d]` (plus
    the transcoder's skip map of its input, a linear path)."""
    logits, seen = run_model(
        model.module,
        rep.tokens[None],
        lambda layer, mlp_in: (
            constants[layer][None] + transcoders.transcoders[layer].skip_term(mlp_in)
        ),
        Freeze(rep.recording),
        embeddings=embeddings[None],
    )
    values = []
    for layer, position, feature in graph.features.tolist():
        tc = transcoders.transcoders[layer]
        values.append(seen.mlp_in[layer][0, position] @ tc.W_enc[:, feature] + tc.b_enc[feature])
    last = logits[0, -1]
    values += list(last[graph.logit_tokens] - last.mean())
    return torch.stack(values)


def clean_inputs(model, rep, transcoders):
    """Each MLP's output less its transcoder's skip term, and the token embeddings."""
    constants = [
        out[0] - transcoders.transcoders[layer].skip_term(rep.recording.mlp_in[layer][0])
        for layer, out in enumerate(rep.recording.mlp_out)
    ]
    return constants, model.module.model.embed_tokens(rep.tokens)


def target_rows(graph):
    return torch.cat(
        [torch.arange(graph.n_features), torch.arange(graph.logit_start, graph.n_nodes)]
    )


def bias_inputs(rep, transcoders, constants):
    """The MLP outputs with every source switched off: b_dec, and the BOS position's output (not
    a node: its effect counts as a bias)."""
    kept = []
    first = rep.first_node_position
    for layer, out in enumerate(constants):
        bias = transcoders.transcoders[layer].b_dec.expand_as(out).clone()
        bias[:first] = out[:first]
        kept.append(bias)
    return kept
