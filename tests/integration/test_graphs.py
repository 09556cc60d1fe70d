"""Attribution graphs on SmolLM2 with a small transcoder set trained in one live pass: the
layer-by-layer forward is the model, the replacement model with its errors gives the model's
logits, every target's incoming edges plus its biases give its value, and interventions in the
frozen replacement model move the top logit exactly as the graph predicts."""

import pytest
import torch

from saekit.analysis.graphs.attribution import attribute_rows
from saekit.analysis.graphs.forward import run_model
from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.pruning import graph_scores, prune
from saekit.analysis.graphs.replacement import build_replacement, run_replacement
from saekit.analysis.graphs.targets import prompt_tokens, top_logits
from saekit.analysis.graphs.transcoders import TranscoderSetConfig, train_transcoder_set
from saekit.analysis.graphs.validation import validate
from tests.unit.analysis.graphs.helpers import (
    bias_inputs,
    clean_inputs,
    frozen_values,
    target_rows,
)

pytestmark = pytest.mark.integration

PROMPT = "The capital of France is"
SMALL_SET = dict(
    d_sae=256, k=8, tokens=4096, batch_size=1024, corpus_tokens=16_384, buffer_rows=2048
)


@pytest.fixture(scope="module")
def transcoders(smollm2, tmp_path_factory):
    out = tmp_path_factory.mktemp("transcoders")
    return train_transcoder_set(smollm2, out, TranscoderSetConfig(**SMALL_SET), progress=False)


@pytest.fixture(scope="module")
def replacement(smollm2, transcoders):
    return build_replacement(smollm2, transcoders, prompt_tokens(smollm2, PROMPT))


@pytest.fixture(scope="module")
def graph(smollm2, transcoders, replacement):
    logits = top_logits(replacement.logits[-1])
    feats = replacement.features
    adjacency = attribute_rows(smollm2, transcoders, replacement, logits, progress=False)
    return AttributionGraph(
        model="smollm2-135m",
        prompt=PROMPT,
        tokens=replacement.tokens,
        token_strings=[smollm2.tokenizer.decode([t]) for t in replacement.tokens.tolist()],
        n_layers=30,
        features=torch.stack([feats.layer, feats.position, feats.feature], 1),
        activations=feats.activation,
        logit_tokens=logits.tokens,
        logit_probabilities=logits.probabilities,
        logit_strings=[smollm2.tokenizer.decode([t]) for t in logits.tokens.tolist()],
        adjacency=adjacency,
    )


def test_the_replacement_model_with_errors_is_smollm2(smollm2, transcoders, replacement):
    tokens = replacement.tokens[None]
    with torch.no_grad():
        real = smollm2.module(input_ids=tokens).logits[0]
        ours, _ = run_model(smollm2.module, tokens)
    torch.testing.assert_close(ours[0], real, atol=1e-3, rtol=1e-4)
    assert smollm2.tokenizer.decode([int(real[-1].argmax())]) == " Paris"
    for frozen in (False, True):
        logits = run_replacement(
            smollm2, replacement, transcoders, "recomputed", (), frozen, frozen
        )
        torch.testing.assert_close(logits, real, atol=1e-3, rtol=1e-4)


@torch.no_grad()
def test_incoming_edges_plus_biases_give_every_value(smollm2, transcoders, replacement, graph):
    constants, embeddings = clean_inputs(smollm2, replacement, transcoders)
    full = frozen_values(smollm2, replacement, transcoders, graph, constants, embeddings)
    biases = bias_inputs(replacement, transcoders, constants)
    zero = torch.zeros_like(embeddings)
    bias = frozen_values(smollm2, replacement, transcoders, graph, biases, zero)
    incoming = graph.adjacency[target_rows(graph)].sum(1)
    scale = full.abs().max()
    torch.testing.assert_close(incoming + bias, full, atol=2e-4 * scale, rtol=1e-3)


def test_frozen_interventions_agree_with_the_graph_and_scores_are_fractions(
    smollm2, transcoders, replacement, graph
):
    pruned = prune(graph)
    assert pruned.node_mask[graph.logit_start :].all()
    result = validate(smollm2, replacement, transcoders, graph, pruned, n_features=6)
    predicted = torch.tensor([x.predicted for x in result.interventions])
    frozen = torch.tensor([x.frozen for x in result.interventions])
    torch.testing.assert_close(frozen, predicted, atol=2e-3 * predicted.abs().max(), rtol=1e-2)
    scores = graph_scores(graph)
    assert 0 < scores.replacement < 1 and 0 < scores.completeness < 1
