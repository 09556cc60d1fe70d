"""Sentence-level factors in the default model: raw neurons and the SAE's latents at layer 6,
scored on the same disentanglement metrics."""

import numpy as np
import pytest

from saekit.analysis.disentanglement.sentences import pooled_activations, score_latents
from saekit.analysis.factor_data.factor_sentences import factor_sentences

from .conftest import HOOK

pytestmark = pytest.mark.integration


def test_neurons_and_sae_latents_scored_side_by_side(smollm2, layer6_sae):
    _, sae = layer6_sae
    sentences = factor_sentences()
    pooled = pooled_activations(smollm2, HOOK, sentences.texts, sae)
    assert pooled.neurons.shape == (2400, 576) and pooled.dictionary.shape == (2400, 1152)
    # one sentence recomputed alone gives its row: batching by length changes nothing
    alone = pooled_activations(smollm2, HOOK, sentences.texts[1234:1235], sae)
    assert np.allclose(alone.neurons[0], pooled.neurons[1234], atol=1e-4)
    assert np.allclose(alone.dictionary[0], pooled.dictionary[1234], atol=1e-4)
    neurons = {k: e.value for k, e in score_latents(pooled.neurons, sentences.factors).items()}
    latents = {k: e.value for k, e in score_latents(pooled.dictionary, sentences.factors).items()}
    # every factor is linearly decodable from layer 6, and the SAE keeps that information
    assert neurons["dci_i"] > 0.97 and neurons["explicitness"] > 0.97
    assert latents["dci_i"] > 0.9 and latents["explicitness"] > 0.9
    for row in (neurons, latents):
        assert all(0.0 <= value <= 1.0 for value in row.values())
    # no single neuron carries a whole factor
    assert neurons["mig"] < 0.2
