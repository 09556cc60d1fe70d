"""Steering the default model with an SAE feature moves its generations toward what the
feature's top examples are about (MiniLM similarity, steered vs unsteered, paired)."""

import itertools

import pytest
import torch
from scipy.stats import ttest_rel

from saekit.embeddings import SentenceEmbedder
from saekit.evals.feature_stats import feature_stats, top_contexts
from saekit.steer import generate, steer

pytestmark = pytest.mark.integration
PROMPTS = ["I think that", "The weather today", "My favourite thing is", "In the beginning"]
SEEDS = range(3)
STRENGTH = 4.0


def topical_feature(store, stats, tokenizer, embedder) -> tuple[int, torch.Tensor]:
    """The feature whose top contexts are most alike in meaning, among mid-density features
    that fire on at least five different tokens (so it is about a topic, not one token)."""
    best, best_score, best_target = -1, -1.0, None
    for f in torch.nonzero((stats.density > 0.002) & (stats.density < 0.03)).flatten().tolist():
        tops = top_contexts(store, stats, f, window=12)[:10]
        if len({tokens[-1] for _, tokens in tops}) < 5:
            continue
        vectors = embedder.embed([tokenizer.decode(tokens) for _, tokens in tops])
        score = float((vectors @ vectors.T).mean())
        if score > best_score:
            best, best_score, best_target = f, score, vectors.mean(0)
    return best, torch.nn.functional.normalize(best_target, dim=0)


def test_forcing_a_feature_on_steers_generations_toward_its_topic(
    smollm2, layer6_store, layer6_sae
):
    _, sae = layer6_sae
    stats = feature_stats(sae, layer6_store)
    embedder = SentenceEmbedder()
    feature, target = topical_feature(layer6_store, stats, smollm2.tokenizer, embedder)
    peak = float(stats.max_activation[feature])
    plain, steered = [], []
    for prompt, seed in itertools.product(PROMPTS, SEEDS):
        plain.append(generate(smollm2, prompt, max_new_tokens=30, seed=seed))
        steered.append(steer(smollm2, sae, feature, STRENGTH, prompt, peak, 30, seed))
    base = embedder.embed(plain) @ target
    moved = embedder.embed(steered) @ target
    gain = float((moved - base).mean())
    p_value = ttest_rel(moved.numpy(), base.numpy(), alternative="greater").pvalue
    print(f"steering feature {feature} x{STRENGTH}: gain {gain:.3f}, paired p {p_value:.2g}")
    assert gain >= 0.05, (feature, gain, steered[:2])
    assert p_value < 0.05, (feature, p_value)
    assert steered != plain
