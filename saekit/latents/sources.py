"""What gives latent activations for store rows: a dictionary encoding the store's activations,
or (for features whose meaning is known, e.g. in tests) indicators on the rows' tokens."""

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import Tensor

from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook


class LatentSource(Protocol):
    hook: str | None
    """The store hook whose activations are encoded (None: only tokens are read)."""
    n_latents: int

    def __call__(self, acts: Tensor | None, tokens: Tensor) -> Tensor:
        """`[rows, n_latents]` activations (>= 0) for rows of the store."""
        ...


class DictionarySource:
    def __init__(self, dictionary: Dictionary, hook: str | None = None):
        self.dictionary = dictionary
        self.hook = resolve_hook(dictionary, hook)
        self.n_latents = dictionary.cfg.d_sae

    @torch.no_grad()
    def __call__(self, acts: Tensor | None, tokens: Tensor) -> Tensor:
        return self.dictionary.encode(acts.float()).clamp_min(0)


class TokenIndicatorSource:
    """Latent i is 1 on every row whose token is in `token_sets[i]`: a feature with a known
    explanation."""

    hook = None

    def __init__(self, token_sets: Sequence[set[int]]):
        self.token_sets = [
            torch.tensor(sorted(s), dtype=torch.long) for s in token_sets
        ]  # cpu: moved per call
        self.n_latents = len(token_sets)

    def __call__(self, acts: Tensor | None, tokens: Tensor) -> Tensor:
        sets = [ids.to(tokens.device) for ids in self.token_sets]
        return torch.stack([torch.isin(tokens, ids) for ids in sets], 1).float()


class NeuronSource:
    """The hook's raw neurons as latents: the baseline dictionaries are compared against
    (delphi: SAE latents are more interpretable than neurons). Residual-stream neurons are dense
    — positive on about half of all tokens, so no silent span exists to contrast with — so a
    neuron "fires" where it exceeds its own `quantile` (default: its top 1 % of tokens, a density
    like a dictionary latent's), with activation = the excess over that threshold."""

    def __init__(self, hook: str, thresholds: Tensor):
        self.hook, self.thresholds = hook, thresholds.float()
        self.n_latents = len(thresholds)

    @classmethod
    def from_store(
        cls, store, hook: str, quantile: float = 0.99, sample_rows: int = 16384
    ) -> "NeuronSource":
        rows = next(store.hook_batches(hook, batch_size=sample_rows, seed=0)).float()
        return cls(hook, torch.quantile(rows, quantile, dim=0))

    def __call__(self, acts: Tensor | None, tokens: Tensor) -> Tensor:
        return (acts.float() - self.thresholds).clamp_min(0)


def check_pairing(dictionary: Dictionary, store_model: str, store_hooks: Sequence[str]) -> None:
    """A dictionary and a store belong together: same model, and the store holds its hook."""
    model = dictionary.cfg.model_name
    if model and store_model and model != store_model:
        raise ValueError(
            f"the dictionary was trained on {model!r} but the store holds {store_model!r} "
            "activations: pass the store harvested from the dictionary's model"
        )
    hook = dictionary.cfg.hook_name
    if hook and hook not in store_hooks:
        raise ValueError(
            f"the dictionary reads {hook!r} but the store holds {list(store_hooks)}: "
            "pass a store harvested at that hook"
        )
