"""Where each latent fires in a store: one ordered pass, kept sparse (rows and values per
latent), plus the bounds of each row's token window."""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from saekit.latents.sources import LatentSource
from saekit.store import ActivationStore


class Firing(NamedTuple):
    rows: list[np.ndarray]
    """Per latent (in the order asked for), the store rows where it is > 0, ascending."""
    values: list[np.ndarray]
    """Its activation at those rows."""
    n_rows: int
    """Rows scanned."""

    def values_at(self, index: int, start: int, end: int) -> np.ndarray:
        """`[end - start]` the activations of latent number `index` on rows start..end-1."""
        rows, values = self.rows[index], self.values[index]
        lo, hi = np.searchsorted(rows, [start, end])
        out = np.zeros(end - start, dtype=np.float32)
        out[rows[lo:hi] - start] = values[lo:hi]
        return out


@torch.no_grad()
def latent_firing(
    source: LatentSource,
    store: ActivationStore,
    latents: Sequence[int],
    batch_size: int = 4096,
    max_rows: int | None = None,
) -> Firing:
    """Activations of `latents` on the store's rows (the first `max_rows` of them)."""
    n_rows = min(len(store), max_rows or len(store))
    tokens = store.tokens
    selected = torch.as_tensor(list(latents), dtype=torch.long)
    found_rows, found_latents, found_values = [], [], []
    batches = (
        store.hook_batches(source.hook, batch_size, shuffle=False, drop_nonfinite=False)
        if source.hook
        else (None for _ in range(0, n_rows, batch_size))
    )
    seen = 0
    with tqdm(total=n_rows, desc="latent activations", unit="row", leave=False) as bar:
        for acts in batches:
            n = min(batch_size if acts is None else acts.shape[0], n_rows - seen)
            acts = None if acts is None else acts[:n]
            values = source(acts, tokens[seen : seen + n])[:, selected]
            rows, columns = values.nonzero(as_tuple=True)
            found_rows.append(rows + seen)
            found_latents.append(columns)
            found_values.append(values[rows, columns])
            seen += n
            bar.update(n)
            if seen >= n_rows:
                break
    rows, columns, values = (
        torch.cat(x).numpy() for x in (found_rows, found_latents, found_values)
    )
    order = np.lexsort((rows, columns))
    rows, columns, values = rows[order], columns[order], values[order]
    bounds = np.searchsorted(columns, np.arange(len(selected) + 1))
    return Firing(
        [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
        [values[a:b].astype(np.float32) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
        seen,
    )


def window_bounds(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first row of its token window and one past its last (rows of a window are
    contiguous)."""
    change = np.flatnonzero(np.diff(windows)) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, len(windows)]
    which = np.repeat(np.arange(len(starts)), ends - starts)
    return starts[which], ends[which]
