"""What a context of a latent is: `Example` (a span of tokens with the latent's activation at
each, as auto-interp and the dashboards show it) and `Context` (the tokens leading up to one of
its top activations, from the feature statistics)."""

from typing import NamedTuple

from saekit.evals.feature_stats import FeatureStats
from saekit.store import ActivationStore


class Example(NamedTuple):
    tokens: list[int]
    activations: list[float]
    """The latent's activation at each token."""
    start: int
    """Store row of the first token."""

    @property
    def max_activation(self) -> float:
        return max(self.activations)


class Context(NamedTuple):
    """One place a latent fired, with the tokens that led up to it."""

    value: float
    """The latent's activation there."""
    token_ids: list[int]
    """Tokens of the same window before and at the activating position (it is the last)."""


def top_contexts(
    store: ActivationStore, stats: FeatureStats, latent: int, window: int = 8
) -> list[Context]:
    """For one latent, its top activations as `Context`s, using the store's `tokens` and
    `windows` (rows of one window are contiguous)."""
    tokens, windows = store.tokens, store.windows
    out = []
    for value, row in zip(
        stats.top_values[latent].tolist(), stats.top_rows[latent].tolist(), strict=True
    ):
        if row < 0:
            continue
        start = max(row - window, 0)
        same = windows[start : row + 1] == windows[row]
        out.append(Context(value, tokens[start : row + 1][same].tolist()))
    return out
