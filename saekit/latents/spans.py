"""Token spans around the rows where a latent fires, inside each row's token window: the one
place that cuts contexts out of a store (auto-interp examples, report dashboards)."""

import numpy as np

from saekit.latents.contexts import Example
from saekit.latents.firing import Firing, window_bounds
from saekit.store import ActivationStore


class Spans:
    """Token spans of `window` rows around a row, inside its token window."""

    def __init__(self, store: ActivationStore, window: int, before: int, n_rows: int):
        self.tokens = store.tokens[:n_rows].numpy()
        self.first, self.last = window_bounds(store.windows[:n_rows].numpy())
        self.window, self.before = window, before

    def around(self, row: int) -> tuple[int, int]:
        first, last = self.first[row], self.last[row]
        start = max(row - self.before, first)
        end = min(start + self.window, last)
        return max(end - self.window, first), end

    def example(self, firing: Firing, index: int, span: tuple[int, int]) -> Example:
        start, end = span
        values = firing.values_at(index, start, end)
        return Example(self.tokens[start:end].tolist(), values.round(4).tolist(), int(start))


def activating_spans(spans: Spans, rows: np.ndarray, values: np.ndarray, used: np.ndarray):
    """Non-overlapping spans around the strongest rows first, with their peak value."""
    out = []
    for i in np.argsort(-values, kind="stable"):
        start, end = spans.around(int(rows[i]))
        if not used[start:end].any():
            used[start:end] = True
            out.append(((start, end), float(values[i])))
    return out


def by_quantile(candidates: list, n_quantiles: int, per_quantile: int, rng) -> list:
    """`per_quantile` picks from each of `n_quantiles` equal-count groups of the candidates
    (ordered strongest first), as (candidate, quantile) pairs."""
    picks = []
    groups = np.array_split(np.arange(len(candidates)), n_quantiles)
    for q, group in enumerate(groups):
        chosen = rng.choice(group, min(per_quantile, len(group)), replace=False)
        picks += [(candidates[i], q) for i in sorted(chosen)]
    return picks
