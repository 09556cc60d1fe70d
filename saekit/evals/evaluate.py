"""`saekit.evaluate`: reconstruction, sparsity and (with the model) loss recovered."""

import json
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch

from saekit.data.text import load_texts, pack_windows
from saekit.evals.lm_loss import LossRecovered, loss_recovered
from saekit.evals.reconstruction import ReconstructionStats, reconstruction_stats
from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore
from saekit.store.holdout import HeldOut


@dataclass
class EvalReport:
    reconstruction: ReconstructionStats
    lm: LossRecovered | None
    """None when no model was given."""
    rows_used: str = "every row"
    """Which rows and windows were evaluated (held-out ones when the dictionary recorded them)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


class EvalRows(NamedTuple):
    store: ActivationStore
    """The rows evaluated (a view of the store)."""
    first_window: int
    """The first token window they come from."""
    description: str


def evaluation_rows(dictionary: Dictionary, store: ActivationStore) -> EvalRows:
    """The rows the dictionary was not trained on, when it recorded them for this store; else
    every row (said so in the description)."""
    recorded = dictionary.cfg.held_out
    if recorded is None:
        return EvalRows(store, 0, "every row (the dictionary recorded no held-out rows)")
    held_out = HeldOut(**recorded)
    if not held_out.applies_to(store):
        return EvalRows(store, 0, "every row (the dictionary was trained on another store)")
    view = store.rows_between(held_out.first_row, len(store))
    return EvalRows(view, held_out.first_window, held_out.describe())


def store_windows(store: ActivationStore, model: LanguageModel, n_windows: int, first: int = 0):
    """Rebuild `n_windows` of the token windows the store was harvested from, from `first`."""
    cfg = store.manifest.config
    if cfg.get("data") in (None, "<list>"):
        raise ValueError(
            "the store was harvested from an in-memory corpus: its windows cannot "
            "be rebuilt for the LM evaluation"
        )
    texts = load_texts(cfg["data"], seed=cfg["seed"])
    packed = pack_windows(
        texts, model.tokenizer, cfg["context_length"], first + n_windows, cfg["bos"]
    )
    return packed.split(first)[1]


def mean_activation(store: ActivationStore, hook: str, max_rows: int = 50_000) -> torch.Tensor:
    total, rows = None, 0
    for batch in store.hook_batches(hook, 4096, shuffle=False):
        batch = batch.float()
        total = batch.sum(0) if total is None else total + batch.sum(0)
        rows += batch.shape[0]
        if rows >= max_rows:
            break
    return total / rows


def evaluate(
    dictionary: Dictionary,
    store: ActivationStore,
    model: LanguageModel | None = None,
    max_rows: int = 100_000,
    lm_windows: int = 32,
) -> EvalReport:
    """Reconstruction metrics on the store's held-out rows (every row if the dictionary recorded
    none for it); with `model`, next-token loss with the dictionary spliced in at its hook on
    the held-out windows, against zero- and mean-ablation (special tokens excluded)."""
    rows = evaluation_rows(dictionary, store)
    reconstruction = reconstruction_stats(dictionary, rows.store, max_rows=max_rows)
    lm = None
    if model is not None:
        hook = resolve_hook(dictionary, None, store.hooks)
        if dictionary.cfg.is_transcoder:
            raise ValueError("loss recovered splices autoencoders only, not transcoders")
        windows = store_windows(store, model, lm_windows, rows.first_window)
        lm = loss_recovered(
            model, dictionary, windows.tokens, windows.special, mean_activation(store, hook), hook
        )
    return EvalReport(reconstruction, lm, rows.description)
