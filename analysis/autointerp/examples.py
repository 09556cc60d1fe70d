"""Per latent: activating examples to explain from and to score on, and examples where it does
not fire — random ones and hard negatives that look like the activating ones (by MiniLM
embedding) but stay silent. Examples are token spans of one window, the activating token about
three quarters in (delphi: 32 tokens); no two examples of a latent overlap, so train and test
never share a token."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor

from saekit.latents.contexts import Example
from saekit.latents.firing import latent_firing
from saekit.latents.sources import LatentSource
from saekit.latents.spans import Spans, activating_spans, by_quantile
from saekit.store import ActivationStore

Embed = Callable[[list[list[int]]], Tensor]
"""Token-id lists -> `[n, dim]` unit vectors (MiniLM over the decoded text)."""


@dataclass
class ExampleConfig:
    window: int = 32
    """Tokens per example (delphi: 32)."""
    before: int = 24
    """Tokens before the activating one, so it sits about three quarters in."""
    n_train: int = 20
    """Activating examples shown to the explainer (at most half of a latent's, so test
    examples are always left)."""
    train_sampling: Literal["top", "quantiles", "uniform"] = "top"
    """top: the strongest activations; quantiles: spread over the activation quantiles; uniform:
    a uniform sample of all activating spans."""
    n_quantiles: int = 10
    """Activation quantiles the test examples are drawn from (delphi: 10)."""
    test_per_quantile: int = 2
    """Activating test examples per quantile."""
    n_random: int = 10
    """Random non-activating test examples."""
    n_hard: int = 10
    """Hard negatives: non-activating spans most similar (MiniLM) to the train examples."""
    hard_pool: int = 500
    """Random spans embedded once, from which every latent's hard negatives are picked."""
    min_activating: int = 10
    """Latents with fewer non-overlapping activating spans are skipped (and listed)."""
    max_rows: int | None = None
    """Scan only the first rows of the store (default: all)."""
    seed: int = 0
    """Seed of every random choice (random:N latents, sampled examples, the hard-negative pool);
    each latent draws from its own stream, so its examples do not depend on the other latents."""


class LatentExamples(NamedTuple):
    latent: int
    train: list[Example]
    activating: list[Example]
    """Test examples that fire."""
    quantile: list[int]
    """Activation quantile (0 = strongest) of each activating test example."""
    random_negatives: list[Example]
    hard_negatives: list[Example]

    @property
    def negatives(self) -> list[Example]:
        return self.random_negatives + self.hard_negatives

    @property
    def max_activation(self) -> float:
        return max(e.max_activation for e in self.train + self.activating)


class ExampleSet(NamedTuple):
    latents: dict[int, LatentExamples]
    skipped: dict[int, str]
    """Latent -> why it has no examples."""


def _silent_spans(spans, firing, index, used, n, rng, tries: int = 20) -> list[tuple[int, int]]:
    out = []
    n_rows = len(used)
    for row in rng.integers(0, n_rows, n * tries):
        if len(out) == n:
            break
        start, end = spans.around(int(row))
        if not used[start:end].any() and not firing.values_at(index, start, end).any():
            used[start:end] = True
            out.append((start, end))
    return out


def _hard_negatives(spans, firing, index, used, train, pool, pool_vectors, n, embed):
    if n == 0 or embed is None or not pool:
        return []
    centre = embed([e.tokens for e in train]).mean(0)
    order = torch.argsort(pool_vectors @ centre, descending=True).tolist()
    out = []
    for i in order:
        start, end = pool[i]
        if not used[start:end].any() and not firing.values_at(index, start, end).any():
            used[start:end] = True
            out.append((start, end))
            if len(out) == n:
                break
    return out


def latent_rng(seed: int, latent: int) -> np.random.Generator:
    """The random stream of one latent: the same whichever other latents a run holds."""
    return np.random.default_rng([seed, latent])


def collect_examples(
    source: LatentSource,
    store: ActivationStore,
    latents: Sequence[int],
    cfg: ExampleConfig | None = None,
    embed: Embed | None = None,
) -> ExampleSet:
    """Examples for each latent in `latents` (hard negatives only when `embed` is given)."""
    cfg = cfg or ExampleConfig()
    bad = [i for i in latents if not 0 <= i < source.n_latents]
    if bad:
        raise IndexError(f"latents {bad[:5]} out of range: the source has {source.n_latents}")
    firing = latent_firing(source, store, latents, max_rows=cfg.max_rows)
    spans = Spans(store, cfg.window, cfg.before, firing.n_rows)
    pool_rng = np.random.default_rng(cfg.seed)
    pool = [spans.around(int(r)) for r in pool_rng.integers(0, firing.n_rows, cfg.hard_pool)]
    pool = list(dict.fromkeys(pool))
    pool_vectors = embed([spans.tokens[a:b].tolist() for a, b in pool]) if embed else None
    found, skipped = {}, {}
    for index, latent in enumerate(latents):
        rng = latent_rng(cfg.seed, latent)
        used = np.zeros(firing.n_rows, dtype=bool)
        candidates = activating_spans(spans, firing.rows[index], firing.values[index], used)
        if len(candidates) < cfg.min_activating:
            skipped[latent] = (
                f"fires in {len(candidates)} separate spans of {firing.n_rows} rows "
                f"(< min_activating={cfg.min_activating})"
            )
            continue
        n_train = min(cfg.n_train, len(candidates) // 2)  # always leave test examples
        if cfg.train_sampling == "top":
            train_spans, rest = candidates[:n_train], candidates[n_train:]
        else:
            if cfg.train_sampling == "uniform":
                picked = rng.choice(len(candidates), n_train, replace=False)
                train_spans = [candidates[i] for i in sorted(picked)]
            else:
                per = max(1, n_train // cfg.n_quantiles)
                train_spans = [c for c, _ in by_quantile(candidates, cfg.n_quantiles, per, rng)]
            rest = [c for c in candidates if c not in train_spans]
        test = by_quantile(rest, cfg.n_quantiles, cfg.test_per_quantile, rng) if rest else []
        train = [spans.example(firing, index, span) for span, _ in train_spans]
        random_spans = _silent_spans(spans, firing, index, used, cfg.n_random, rng)
        hard_spans = _hard_negatives(
            spans, firing, index, used, train, pool, pool_vectors, cfg.n_hard, embed
        )
        found[latent] = LatentExamples(
            latent,
            train,
            [spans.example(firing, index, span) for (span, _), _ in test],
            [q for _, q in test],
            [spans.example(firing, index, s) for s in random_spans],
            [spans.example(firing, index, s) for s in hard_spans],
        )
    return ExampleSet(found, skipped)
