"""Auto-interp on the default model: explanations that are known to be true beat shuffled ones
under the embedding scorer (the offline judge's detection/fuzzing are reported by `make
interpret`, not asserted: at 135M parameters it is near chance), and the whole pipeline against
a real HTTP server — an unparseable answer recorded, resumable by latent, the API key in no file."""

import json

import pytest
from scipy.stats import wilcoxon

from saekit.analysis.autointerp.clients import ClientError
from saekit.analysis.autointerp.examples import ExampleConfig, collect_examples
from saekit.analysis.autointerp.ground_truth import KNOWN_FEATURES, known_source
from saekit.analysis.autointerp.pipeline import InterpretConfig, interpret
from saekit.analysis.autointerp.results import RESULTS
from saekit.analysis.autointerp.scorers import EmbeddingScorer
from saekit.analysis.embeddings import SentenceEmbedder
from saekit.latents.sources import DictionarySource
from tests.unit.analysis.autointerp.fake_openai import FakeOpenAI, answer

KEY = "sk-integration-secret-42"
SMALL = ExampleConfig(n_train=6, n_quantiles=3, test_per_quantile=2, n_random=4, n_hard=2)


def test_true_explanations_beat_shuffled_ones_under_the_embedding_scorer(smollm2, layer6_store):
    """Pooled over three example draws (one draw of 8 features is too few pairs: its p-value
    ranges 0.11-0.37 over seeds, the pooled one 2e-4-5e-4 over three sets of seeds)."""
    embedder = SentenceEmbedder()
    source = known_source(smollm2.tokenizer)
    embed = embedder.token_embedder(smollm2.tokenizer)
    scorer = EmbeddingScorer(embedder, smollm2.tokenizer)
    true = [f.explanation for f in KNOWN_FEATURES]
    right, wrong = [], []
    for seed in range(3):
        cfg = ExampleConfig(
            n_train=10, n_quantiles=5, test_per_quantile=4, n_random=10, n_hard=10, seed=seed
        )
        found = collect_examples(source, layer6_store, range(source.n_latents), cfg, embed)
        assert len(found.latents) >= 6, found.skipped
        for i, examples in found.latents.items():  # its own explanation vs all the others'
            auc = [scorer.score(examples, text).metrics["roc_auc"] for text in true]
            right.append(auc[i])
            wrong.append(sum(auc[:i] + auc[i + 1 :]) / (len(auc) - 1))
    assert wilcoxon(right, wrong, alternative="greater").pvalue < 0.01, (right, wrong)
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.05


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.close()


def test_pipeline_against_a_server_resumes_and_writes_no_key(
    smollm2, layer6_store, layer6_sae, tmp_path, server, monkeypatch
):
    monkeypatch.setenv("SAEKIT_TEST_KEY", KEY)
    _, sae = layer6_sae
    source = DictionarySource(sae)
    latents = list(range(40))
    cfg = InterpretConfig(
        latents="0-39",
        explainer="llm",
        scorers=["detection"],
        client="openai",
        base_url=server.base_url,
        client_model="explainer",
        api_key_env="SAEKIT_TEST_KEY",
        concurrency=1,  # the server answers from a script, in request order
        batch_latents=64,
        examples=SMALL,
    )
    explanations = [
        (200, answer("[EXPLANATION]: words about places")),
        (200, answer("I am not sure.\nThese examples are all different.")),  # no marker
    ]
    preflight = [(200, answer("yes"))]  # the one-token check before any work
    server.script.extend(preflight + explanations + [(200, answer("ok"))] * 38)
    run = interpret(source, layer6_store, smollm2, tmp_path, cfg)
    records = [json.loads(line) for line in (tmp_path / RESULTS).read_text().splitlines()]
    assert sorted(r["latent"] for r in records) == latents
    explained = [r for r in records if "skipped" not in r]
    assert explained, "every latent skipped"
    first, second = explained[0], explained[1]
    assert first["explanation"] == "words about places" and first["parsed"]
    assert first["scores"]["detection"]["balanced_accuracy"] == 0.5  # "ok" is neither yes nor no
    assert (
        not second["parsed"] and second["raw"].startswith("I am not sure") and not second["scores"]
    )
    assert first["versions"]["judge"].startswith("openai:explainer@")
    assert 0 < len(first["examples"]["train"]) <= 6
    assert len(first["predictions"]["detection"]) == len(
        first["examples"]["activating"] + first["examples"]["random"] + first["examples"]["hard"]
    )
    for path in tmp_path.rglob("*"):
        assert KEY not in path.read_text(errors="replace")

    # resume: nothing is asked again; a torn last line is redone, alone
    asked = len(server.requests)
    assert (
        interpret(source, layer6_store, smollm2, tmp_path, cfg).results.keys() == run.results.keys()
    )
    assert len(server.requests) == asked
    text = (tmp_path / RESULTS).read_text()
    last = records[-1]["latent"]
    (tmp_path / RESULTS).write_text(text[: text.rstrip("\n").rfind("\n") + 1] + '{"latent": ')
    rerun = interpret(source, layer6_store, smollm2, tmp_path, cfg)
    assert last in rerun.results and len((tmp_path / RESULTS).read_text().splitlines()) == 40


def test_an_unreachable_server_fails_clearly_and_writes_nothing_partial(
    smollm2, layer6_store, layer6_sae, tmp_path
):
    _, sae = layer6_sae
    cfg = InterpretConfig(
        latents="0-5",
        explainer="llm",
        scorers=["detection"],
        client="openai",
        base_url="http://127.0.0.1:9/v1",
        client_model="m",
        retries=1,
        examples=SMALL,
    )
    with pytest.raises(ClientError, match="cannot reach the server"):
        interpret(DictionarySource(sae), layer6_store, smollm2, tmp_path, cfg)
    lines = (tmp_path / RESULTS).read_text().splitlines() if (tmp_path / RESULTS).exists() else []
    assert all("skipped" in json.loads(line) for line in lines)


def test_vocab_projection_finds_the_token_a_direction_writes(smollm2):
    from types import SimpleNamespace

    import torch

    from saekit.analysis.autointerp.vocab import vocab_projection

    unembed = smollm2.module.get_output_embeddings().weight.detach()
    norm = smollm2.module.model.norm.weight.detach()
    token = smollm2.tokenizer(" Paris", add_special_tokens=False).input_ids[0]
    rows = torch.stack([unembed[token] / norm, -unembed[token] / norm])  # write it, suppress it
    fake = SimpleNamespace(W_dec=rows)
    projected = vocab_projection(fake, smollm2, [0, 1], k=3)
    # the norm's weight cancels, leaving the unembedding's own similarities to " Paris"
    expected = (unembed.float() @ unembed[token].float()).topk(3).indices
    words = [smollm2.tokenizer.decode([int(t)]) for t in expected]
    assert projected[0].promoted == words and projected[1].suppressed == words
    with pytest.raises(ValueError, match="not trained on this model"):
        vocab_projection(SimpleNamespace(W_dec=torch.ones(2, 7)), smollm2, [0])


def test_a_store_from_another_model_is_refused(layer6_sae, layer6_store):
    from saekit.latents.sources import check_pairing

    _, sae = layer6_sae
    with pytest.raises(ValueError, match="trained on 'smollm2-135m' but the store holds 'gpt2'"):
        check_pairing(sae, "gpt2", layer6_store.hooks)
    with pytest.raises(ValueError, match="reads 'blocks.6.hook_resid_post'"):
        check_pairing(sae, layer6_store.manifest.model, ["blocks.3.hook_resid_post"])
    check_pairing(sae, layer6_store.manifest.model, layer6_store.hooks)


def test_intervention_reaches_the_target_kl_and_scores_the_change(
    smollm2, layer6_store, layer6_sae
):
    from saekit.analysis.autointerp.scorers import InterventionScorer

    _, sae = layer6_sae
    found = collect_examples(DictionarySource(sae), layer6_store, range(8), SMALL)
    scorer = InterventionScorer(smollm2, sae, prompts=("The", "Yesterday I"), new_tokens=6)
    # Which latents can be steered to the target KL depends on the dictionary's training
    # trajectory: some barely move the next token even at the search's cap, and for some the KL
    # jumps past the target between two bisection steps; the scorer reports what it reached.
    examples = next(  # the first that does: each search costs ~20 forward passes
        (
            examples
            for examples in found.latents.values()
            if abs(scorer.strength_for(examples.latent, examples.max_activation)[1] - 0.5) < 0.1
        ),
        None,
    )
    assert examples is not None, "no latent of the eight reached the target KL"
    result = scorer.score(examples, "anything")
    assert abs(result.metrics["kl"] - 0.5) < 0.1 and result.metrics["strength"] > 0
    assert [p.kind for p in result.predictions] == ["clean", "clean", "steered", "steered"]
    steered = scorer.steered_texts(examples)
    assert steered.clean != steered.steered  # the latent changed what the model writes
    assert 0.0 <= result.metrics["roc_auc"] <= 1.0
