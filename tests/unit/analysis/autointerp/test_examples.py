"""Example sampling on a synthetic store with known firing: quantiles, no overlap between any
two examples of a latent, negatives that really do not fire, skipped latents listed."""

from itertools import pairwise

import numpy as np
import pytest
import torch

from saekit.analysis.autointerp.examples import ExampleConfig, collect_examples
from saekit.latents.sources import TokenIndicatorSource


class TokenStore:
    """What example collection reads from a store: rows' tokens and windows (no activations)."""

    def __init__(self, tokens: np.ndarray, window: int):
        self.tokens = torch.as_tensor(tokens)
        self.windows = torch.arange(len(tokens)) // window

    def __len__(self) -> int:
        return len(self.tokens)


def _store(n: int = 20_000, seed: int = 0) -> TokenStore:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(10, 1000, n)
    tokens[rng.random(n) < 0.004] = 1  # latent 0's token: rare
    tokens[rng.random(n) < 0.0002] = 2  # latent 1's token: too rare to explain
    return TokenStore(tokens, window=128)


class ValueSource(TokenIndicatorSource):
    """Latent 0 fires on token 1 with a value that grows along the store (so quantiles are
    known), latent 1 on token 2."""

    def __call__(self, acts, tokens):
        out = super().__call__(acts, tokens)
        return out * torch.linspace(1, 2, len(tokens))[:, None]


def _spans(examples):
    return [(e.start, e.start + len(e.tokens)) for e in examples]


def test_examples_do_not_overlap_and_negatives_do_not_fire():
    store = _store()
    cfg = ExampleConfig(n_train=10, n_quantiles=5, test_per_quantile=2, n_random=8, n_hard=0)
    found = collect_examples(TokenIndicatorSource([{1}, {2}]), store, [0, 1], cfg)
    assert 1 in found.skipped and "min_activating" in found.skipped[1]
    ex = found.latents[0]
    assert len(ex.train) == 10 and len(ex.activating) == 10 and len(ex.random_negatives) == 8
    spans = sorted(_spans(ex.train + ex.activating + ex.negatives))
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(spans))
    tokens = store.tokens.numpy()
    for e in ex.train + ex.activating:
        assert len(e.tokens) == 32 and 1 in e.tokens and type(e.start) is int  # JSON-ready
        assert e.activations == [1.0 if t == 1 else 0.0 for t in e.tokens]
        assert list(tokens[e.start : e.start + 32]) == e.tokens
        assert store.windows[e.start] == store.windows[e.start + 31]  # one window
    for e in ex.negatives:
        assert 1 not in e.tokens and max(e.activations) == 0
    # the activating token sits about three quarters in when the window allows it
    centred = [e.tokens.index(1) for e in ex.train if e.start % 128 >= 24]
    assert centred and np.median(centred) <= 24


def test_test_examples_span_the_activation_quantiles():
    cfg = ExampleConfig(n_train=5, n_quantiles=4, test_per_quantile=3, n_random=0, n_hard=0)
    ex = collect_examples(ValueSource([{1}]), _store(seed=3), [0], cfg).latents[0]
    assert sorted(set(ex.quantile)) == [0, 1, 2, 3] and len(ex.activating) == 12
    peaks = [e.max_activation for e in ex.activating]
    by_quantile = [
        np.mean([p for p, q in zip(peaks, ex.quantile, strict=True) if q == k]) for k in range(4)
    ]
    assert by_quantile == sorted(by_quantile, reverse=True)  # quantile 0 is the strongest
    assert min(e.max_activation for e in ex.train) >= max(peaks)  # train = the top spans


def test_hard_negatives_are_the_most_similar_silent_spans():
    store = _store(seed=5)

    def embed(token_lists):  # "similar" = many tokens below 100, like latent 0's context here
        return torch.nn.functional.normalize(
            torch.tensor([[np.mean(np.array(t) < 100), 0.1] for t in token_lists]), dim=1
        )

    cfg = ExampleConfig(n_train=10, n_random=0, n_hard=5, hard_pool=400)
    ex = collect_examples(TokenIndicatorSource([{1}]), store, [0], cfg, embed=embed).latents[0]
    assert len(ex.hard_negatives) == 5
    for e in ex.hard_negatives:
        assert max(e.activations) == 0 and 1 not in e.tokens


def test_bad_latent_index():
    with pytest.raises(IndexError, match="out of range"):
        collect_examples(TokenIndicatorSource([{1}]), _store(), [3])


def test_neurons_fire_above_their_own_quantile():
    from saekit.latents.sources import NeuronSource

    source = NeuronSource("h", torch.tensor([1.0, -2.0]))
    acts = torch.tensor([[0.5, -1.0], [3.0, -3.0]])
    assert torch.equal(source(acts, None), torch.tensor([[0.0, 1.0], [2.0, 0.0]]))


@pytest.mark.parametrize("sampling", ["quantiles", "uniform"])
def test_other_train_samplings_keep_train_and_test_apart(sampling):
    cfg = ExampleConfig(n_train=8, n_quantiles=4, test_per_quantile=2, n_random=0, n_hard=0)
    cfg.train_sampling = sampling
    ex = collect_examples(ValueSource([{1}]), _store(seed=4), [0], cfg).latents[0]
    assert len(ex.train) == 8 and len(ex.activating) == 8
    assert not {e.start for e in ex.train} & {e.start for e in ex.activating}
    # not just the strongest: the train set reaches below the top of the test set
    assert min(e.max_activation for e in ex.train) < max(e.max_activation for e in ex.activating)


@pytest.mark.parametrize("sampling", ["top", "quantiles", "uniform"])
def test_a_latents_examples_do_not_depend_on_the_other_latents(sampling):
    """Alone, in a set, in another order, and in a resumed run (which collects only the
    latents not yet done) a latent gets the same examples."""
    rng = np.random.default_rng(3)
    tokens = rng.integers(10, 60, 20_000)
    store = TokenStore(tokens, window=128)
    source = TokenIndicatorSource([{t} for t in range(10, 16)])
    cfg = ExampleConfig(n_train=6, n_quantiles=3, n_random=5, n_hard=4, train_sampling=sampling)

    def embed(token_lists):  # a deterministic stand-in for MiniLM
        vectors = torch.tensor([[np.mean(t), np.std(t), t[0], t[-1]] for t in token_lists])
        return torch.nn.functional.normalize(vectors.float(), dim=1)

    def examples(latents):
        return collect_examples(source, store, latents, cfg, embed=embed).latents

    everything = examples([0, 1, 2, 3, 4, 5])
    assert everything[4] == examples([4])[4]
    assert everything[4] == examples([5, 4, 1])[4]
    resumed = examples([3, 4, 5])  # latents 0-2 were written before the run stopped
    assert all(everything[i] == resumed[i] for i in (3, 4, 5))
    assert everything[4].random_negatives != everything[5].random_negatives  # not one stream
