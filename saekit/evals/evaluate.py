"""`saekit.evaluate`: reconstruction, sparsity and (with the model) loss recovered."""

import json
from dataclasses import asdict, dataclass

import torch

from saekit.data.text import load_texts, pack_windows
from saekit.evals.lm_loss import LossRecovered, loss_recovered
from saekit.evals.reconstruction import ReconstructionStats, reconstruction_stats
from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.store import ActivationStore


@dataclass
class EvalReport:
    reconstruction: ReconstructionStats
    lm: LossRecovered | None
    """None when no model was given."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def store_windows(store: ActivationStore, model: LanguageModel, n_windows: int):
    """Rebuild the first `n_windows` token windows the store was harvested from."""
    cfg = store.manifest.config
    if cfg.get("data") in (None, "<list>"):
        raise ValueError(
            "the store was harvested from an in-memory corpus: its windows cannot "
            "be rebuilt for the LM evaluation"
        )
    texts = load_texts(cfg["data"], seed=cfg["seed"])
    return pack_windows(texts, model.tokenizer, cfg["context_length"], n_windows, cfg["bos"])


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
    """Reconstruction metrics on the store; with `model`, next-token loss with the dictionary
    spliced in at its hook, against zero- and mean-ablation (special tokens excluded)."""
    reconstruction = reconstruction_stats(dictionary, store, max_rows=max_rows)
    lm = None
    if model is not None:
        hook = dictionary.cfg.hook_name or store.hooks[0]
        if dictionary.cfg.is_transcoder:
            raise ValueError("loss recovered splices autoencoders only, not transcoders")
        windows = store_windows(store, model, lm_windows)
        lm = loss_recovered(
            model, dictionary, windows.tokens, windows.special, mean_activation(store, hook), hook
        )
    return EvalReport(reconstruction, lm)
