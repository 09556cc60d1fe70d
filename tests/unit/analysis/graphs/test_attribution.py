"""The replacement model reproduces the model, and every graph edge is exact: a target's incoming
edges plus its bias terms give its value, and each edge is the effect of perturbing its source
in the frozen replacement model (tiny random Llama, random transcoders)."""

import pytest
import torch

from saekit.analysis.graphs.forward import run_model
from saekit.analysis.graphs.prompt_graph import attribute
from saekit.analysis.graphs.replacement import build_replacement, run_replacement
from saekit.analysis.graphs.targets import prompt_tokens
from tests.unit.analysis.graphs.helpers import (
    bias_inputs,
    clean_inputs,
    frozen_values,
    random_transcoders,
    target_rows,
)

PROMPT = "When Mary and John went to the store, John gave a drink to"


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "skip"])
def transcoders(tiny_lm, request):
    return random_transcoders(tiny_lm, skip=request.param)


@pytest.fixture(scope="module")
def graph(tiny_lm, transcoders):
    return attribute(tiny_lm, transcoders, PROMPT, progress=False, batch_size=7)


@pytest.fixture(scope="module")
def replacement(tiny_lm, transcoders):
    return build_replacement(tiny_lm, transcoders, prompt_tokens(tiny_lm, PROMPT))


def test_the_layer_by_layer_forward_is_the_model(tiny_lm):
    tokens = prompt_tokens(tiny_lm, PROMPT)[None]
    ours, _ = run_model(tiny_lm.module, tokens)
    theirs = tiny_lm.module(input_ids=tokens).logits
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("frozen", [False, True])
def test_features_plus_errors_give_the_models_logits(tiny_lm, transcoders, replacement, frozen):
    logits = run_replacement(
        tiny_lm, replacement, transcoders, freeze_attention=frozen, freeze_norms=frozen
    )
    torch.testing.assert_close(logits, replacement.logits, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_incoming_edges_plus_biases_equal_each_value(tiny_lm, transcoders, replacement, graph):
    constants, embeddings = clean_inputs(tiny_lm, replacement, transcoders)
    values = frozen_values(tiny_lm, replacement, transcoders, graph, constants, embeddings)
    # the bias terms: every source switched off (b_dec and the BOS position's MLP output stay)
    assert replacement.first_node_position == 1
    bias_constants = bias_inputs(replacement, transcoders, constants)
    biases = frozen_values(
        tiny_lm, replacement, transcoders, graph, bias_constants, torch.zeros_like(embeddings)
    )
    incoming = graph.adjacency[target_rows(graph)].sum(1)
    torch.testing.assert_close(incoming + biases, values, atol=1e-4, rtol=1e-4)
    # the features' values are their activations on the prompt (they are active)
    torch.testing.assert_close(values[: graph.n_features], graph.activations, atol=1e-4, rtol=1e-4)
    assert graph.adjacency[graph.n_features : graph.logit_start].abs().sum() == 0


@torch.no_grad()
def test_each_edge_is_the_effect_of_perturbing_its_source(tiny_lm, transcoders, replacement, graph):
    constants, embeddings = clean_inputs(tiny_lm, replacement, transcoders)
    clean = frozen_values(tiny_lm, replacement, transcoders, graph, constants, embeddings)
    rows = target_rows(graph)
    generator = torch.Generator().manual_seed(0)
    layer0 = int((graph.features[:, 0] == 0).sum())
    picks = torch.randperm(layer0, generator=generator)[:4].tolist()
    picks += (layer0 + torch.randperm(graph.n_features - layer0, generator=generator)[:2]).tolist()
    checked = 0
    for source in picks + [graph.error_index(1, 5), graph.error_index(0, 3), graph.token_index(4)]:
        moved = [c.clone() for c in constants]
        moved_embeddings = embeddings.clone()
        if source < graph.n_features:
            layer, position, feature = graph.features[source].tolist()
            tc = transcoders.transcoders[layer]
            moved[layer][position] += graph.activations[source] * tc.W_dec[feature]
        elif source < graph.token_index(0):
            layer, position = divmod(source - graph.n_features, graph.n_positions)
            moved[layer][position] += replacement.errors[layer][position]
        else:
            position = source - graph.token_index(0)
            moved_embeddings[position] += embeddings[position]
        effect = frozen_values(tiny_lm, replacement, transcoders, graph, moved, moved_embeddings)
        torch.testing.assert_close(
            effect - clean, graph.adjacency[rows, source], atol=1e-4, rtol=1e-3
        )
        checked += int(graph.adjacency[rows, source].abs().max() > 1e-4)
    assert checked >= 6  # the perturbed sources do reach some targets


def test_a_prompt_past_the_context_is_refused(tiny_lm, transcoders):
    tokens = torch.zeros(tiny_lm.module.config.max_position_embeddings + 1, dtype=torch.long)
    with pytest.raises(ValueError, match="context length"):
        attribute(tiny_lm, transcoders, tokens, progress=False)


def test_a_logit_target_outside_the_vocabulary_is_refused(tiny_lm, transcoders):
    vocab = tiny_lm.module.config.vocab_size
    with pytest.raises(ValueError, match="not token ids"):
        attribute(tiny_lm, transcoders, PROMPT, logit_tokens=[5, vocab + 3], progress=False)


def test_a_set_missing_a_layer_or_from_another_model_is_refused(tiny_lm, transcoders):
    partial = random_transcoders(tiny_lm)
    del partial.transcoders[1]
    with pytest.raises(ValueError, match=r"lacks layers \[1\]"):
        attribute(tiny_lm, partial, PROMPT, progress=False)
    other = random_transcoders(tiny_lm)
    other.d_model = 64
    with pytest.raises(ValueError, match="were trained on"):
        attribute(tiny_lm, other, PROMPT, progress=False)


def test_a_layer_with_no_active_feature_is_named(tiny_lm, transcoders):
    silent = random_transcoders(tiny_lm)
    with torch.no_grad():
        silent.transcoders[1].b_enc.fill_(-1e4)
    with pytest.raises(ValueError, match="no transcoder feature is active at layer 1"):
        attribute(tiny_lm, silent, PROMPT, progress=False)


def test_interventions_in_the_frozen_model_match_the_graph(
    tiny_lm, transcoders, replacement, graph
):
    from saekit.analysis.graphs.pruning import prune
    from saekit.analysis.graphs.validation import validate

    result = validate(tiny_lm, replacement, transcoders, graph, prune(graph), n_features=8)
    assert len(result.interventions) == 16
    predicted = torch.tensor([x.predicted for x in result.interventions])
    frozen = torch.tensor([x.frozen for x in result.interventions])
    assert predicted.abs().max() > 1e-4
    torch.testing.assert_close(predicted, frozen, atol=2e-4, rtol=1e-3)
    assert result.correlation_frozen > 0.999
    negated = predicted[1::2]
    torch.testing.assert_close(negated, 2 * predicted[::2])  # -1x moves twice as far as 0x


def test_effects_through_every_edge_kept_equal_the_full_graphs(graph):
    from saekit.analysis.graphs.validation import logit_effects

    every = torch.ones(graph.n_nodes, graph.n_nodes, dtype=torch.bool)
    full = logit_effects(graph)
    assert full.abs().max() > 0
    torch.testing.assert_close(logit_effects(graph, every), full, atol=1e-5, rtol=1e-4)
    none = torch.zeros_like(every)
    assert not logit_effects(graph, none).any()


def test_the_last_position_selection_intervenes_there_only(
    tiny_lm, transcoders, replacement, graph
):
    from saekit.analysis.graphs.pruning import prune
    from saekit.analysis.graphs.validation import validate

    result = validate(
        tiny_lm,
        replacement,
        transcoders,
        graph,
        prune(graph),
        n_features=3,
        rank_by="effect-at-last",
    )
    nodes = {x.node for x in result.interventions}
    assert len(nodes) == 3
    assert {int(graph.features[n, 1]) for n in nodes} == {graph.n_positions - 1}


def test_a_feature_cap_keeps_the_most_influential_with_the_full_graphs_edges(
    tiny_lm, transcoders, graph
):
    from saekit.analysis.graphs.pruning import normalized

    capped = attribute(tiny_lm, transcoders, PROMPT, progress=False, max_feature_nodes=12)
    assert capped.n_features == 12 and capped.n_logits == graph.n_logits
    # the capped graph's entries are the full graph's, on the kept nodes
    index = {tuple(f): i for i, f in enumerate(graph.features.tolist())}
    kept = torch.tensor([index[tuple(f)] for f in capped.features.tolist()])
    nodes = torch.cat([kept, torch.arange(graph.n_features, graph.n_nodes)])
    torch.testing.assert_close(capped.adjacency, graph.adjacency[nodes][:, nodes])
    # the first picks follow the logits' direct influence: its top three are kept
    weights = torch.zeros(graph.n_nodes)
    weights[graph.logit_start :] = graph.logit_probabilities
    direct = (weights @ normalized(graph.adjacency))[: graph.n_features]
    assert set(direct.topk(3).indices.tolist()) <= set(kept.tolist())


def test_a_cap_above_the_feature_count_gives_the_full_graph(tiny_lm, transcoders, graph):
    from saekit.analysis.graphs.attribution import RowWriter
    from saekit.analysis.graphs.ranked import attribute_ranked
    from saekit.analysis.graphs.targets import top_logits

    rep = build_replacement(tiny_lm, transcoders, prompt_tokens(tiny_lm, PROMPT))
    logits = top_logits(rep.logits[-1])
    writer = RowWriter.of(tiny_lm, transcoders, rep, logits)
    ranked = attribute_ranked(writer, 10**6, logits.probabilities, batch_size=5, progress=False)
    assert torch.equal(ranked.features, torch.arange(graph.n_features))
    torch.testing.assert_close(ranked.adjacency, graph.adjacency)
