"""Per-latent statistics over a store: firing density, activation quantiles, and the rows where
each latent fires hardest (with their token contexts), saved next to the dictionary for later
analyses and reports."""

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from saekit.artifacts import FEATURE_STATS, write_atomic
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore

QUANTILES = (0.5, 0.9, 0.99)


@dataclass
class FeatureStats:
    density: Tensor
    """`[d_sae]` fraction of rows on which each latent fires."""
    quantiles: Tensor
    """`[d_sae, len(QUANTILES)]` quantiles of each latent's nonzero activations (on a sample)."""
    max_activation: Tensor
    """`[d_sae]` largest activation seen."""
    top_values: Tensor
    """`[d_sae, top_k]` the largest activations, descending."""
    top_rows: Tensor
    """`[d_sae, top_k]` the store rows they occurred at (-1 where fewer rows fired)."""

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / FEATURE_STATS
        tensors = {k: v.contiguous() for k, v in vars(self).items()}
        metadata = {"quantiles": json.dumps(QUANTILES)}
        write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "FeatureStats":
        return cls(**load_file(str(Path(folder) / FEATURE_STATS)))


@torch.no_grad()
def feature_stats(
    dictionary: Dictionary,
    store: ActivationStore,
    hook: str | None = None,
    top_k: int = 20,
    max_rows: int | None = None,
    quantile_rows: int = 8192,
    batch_size: int = 4096,
) -> FeatureStats:
    """One ordered pass over the store (row indices are store rows)."""
    hook = resolve_hook(dictionary, hook, store.hooks)
    d_sae = dictionary.cfg.d_sae
    fires = torch.zeros(d_sae)  # cpu: latents come back to the CPU
    top_values = torch.full((d_sae, top_k), -1.0)  # cpu: as fires
    top_rows = torch.full((d_sae, top_k), -1, dtype=torch.long)  # cpu: as fires
    sample: list[Tensor] = []
    seen = 0
    device = next(dictionary.parameters()).device
    for batch in store.hook_batches(hook, batch_size, shuffle=False, drop_nonfinite=False):
        latents = dictionary.encode(batch.to(device, torch.float32)).cpu()
        fires += (latents > 0).sum(0)
        if sum(s.shape[0] for s in sample) < quantile_rows:
            sample.append(latents)
        k = min(top_k, latents.shape[0])
        values, rows = latents.topk(k, dim=0)
        merged_v = torch.cat([top_values, values.T], dim=1)
        merged_r = torch.cat([top_rows, rows.T + seen], dim=1)
        best = merged_v.topk(top_k, dim=1)
        top_values, top_rows = best.values, merged_r.gather(1, best.indices)
        seen += latents.shape[0]
        if max_rows is not None and seen >= max_rows:
            break
    top_rows[top_values <= 0] = -1
    top_values = top_values.clamp_min(0)
    return FeatureStats(
        density=fires / max(seen, 1),
        quantiles=_nonzero_quantiles(torch.cat(sample)[:quantile_rows]),
        max_activation=top_values[:, 0].clone(),
        top_values=top_values,
        top_rows=top_rows,
    )


def _nonzero_quantiles(latents: Tensor) -> Tensor:
    masked = latents.T.masked_fill(latents.T <= 0, float("nan"))
    q = torch.tensor(QUANTILES)  # cpu: latents are on the CPU
    return torch.nanquantile(masked, q, dim=1).T.nan_to_num(0.0)
