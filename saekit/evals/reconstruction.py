"""Reconstruction and sparsity of a dictionary over stored activations."""

from dataclasses import dataclass

import torch
from torch import Tensor

from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore

DENSE_THRESHOLD = 0.1
"""A latent firing on more than this fraction of rows counts as dense."""


@dataclass
class ReconstructionStats:
    rows: int
    mse: float
    """Mean per-row squared error (summed over features)."""
    fvu: float
    """Fraction of variance unexplained: sum of squared errors / total variance."""
    fvu_standardized: float
    """The FVU with every dimension scaled to unit variance (the mean over dimensions of each
    one's FVU), so that a few high-variance dimensions cannot dominate it."""
    l0: float
    """Mean active latents per row."""
    dead_fraction: float
    """Latents that never fired on these rows."""
    dense_fraction: float
    """Latents firing on more than DENSE_THRESHOLD of the rows."""
    density_histogram: dict[str, list[float]]
    """log10 firing density of the live latents: `counts` per bin and bin `edges`."""


def _histogram(density: Tensor, bins: int = 20) -> dict[str, list[float]]:
    live = density[density > 0]
    if live.numel() == 0:
        return {"counts": [], "edges": []}
    counts, edges = torch.histogram(live.log10().double(), bins=bins)
    return {"counts": counts.tolist(), "edges": edges.tolist()}


@torch.no_grad()
def reconstruction_stats(
    dictionary: Dictionary,
    store: ActivationStore,
    hook: str | None = None,
    hook_out: str | None = None,
    max_rows: int = 100_000,
    batch_size: int = 4096,
) -> ReconstructionStats:
    """Over the first `max_rows` rows of the store (in order)."""
    hook = resolve_hook(dictionary, hook, store.hooks)
    hook_out = hook_out or dictionary.cfg.hook_name_out or hook
    device = next(dictionary.parameters()).device
    fires = torch.zeros(dictionary.cfg.d_sae, dtype=torch.long, device=device)
    active = rows = 0.0
    sum_y = sum_y2 = sq_err = None
    for batch in store.batches([hook, hook_out], batch_size, shuffle=False):
        x = batch[hook].to(device, torch.float32)
        y = batch[hook_out].to(device, torch.float32)
        out = dictionary(x)
        err = (out.reconstruction - y).pow(2).sum(0, dtype=torch.float64)
        sq_err = err if sq_err is None else sq_err + err
        on = out.latents > 0
        fires += on.sum(0)
        active += float(on.sum())
        rows += x.shape[0]
        y_sum, y2_sum = y.sum(0, dtype=torch.float64), y.pow(2).sum(0, dtype=torch.float64)
        sum_y = y_sum if sum_y is None else sum_y + y_sum
        sum_y2 = y2_sum if sum_y2 is None else sum_y2 + y2_sum
        if rows >= max_rows:
            break
    if rows == 0:
        raise ValueError("the store holds no rows to evaluate on")
    variance = (sum_y2 - sum_y.pow(2) / rows).clamp_min(0)  # per dimension, times rows
    varying = variance > 1e-12 * float(variance.max())
    density = fires.float().cpu() / rows
    return ReconstructionStats(
        rows=int(rows),
        mse=float(sq_err.sum()) / rows,
        fvu=float(sq_err.sum()) / max(float(variance.sum()), 1e-12),
        fvu_standardized=float((sq_err[varying] / variance[varying]).mean()),
        l0=active / rows,
        dead_fraction=float((density == 0).float().mean()),
        dense_fraction=float((density > DENSE_THRESHOLD).float().mean()),
        density_histogram=_histogram(density),
    )
