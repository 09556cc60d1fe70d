"""Disentanglement of a language model's hook against sentence-level factors: the raw neurons
and a dictionary's latents at the same hook, each mean-pooled over a sentence's tokens, scored
on the same metrics side by side."""

from collections import defaultdict
from typing import NamedTuple

import numpy as np
import torch

from saekit.analysis.disentanglement.settings import MetricOptions, Uncertainty
from saekit.analysis.disentanglement.table import flat_scores, metric_table
from saekit.analysis.disentanglement.uncertainty import Estimate
from saekit.analysis.factor_data.factor_sentences import FactorSentences
from saekit.models import LanguageModel
from saekit.sae import Dictionary

FAST = MetricOptions(fast=True)


class PooledActivations(NamedTuple):
    neurons: np.ndarray
    """`[n, d]` the hook's activations, mean over each sentence's tokens."""
    dictionary: np.ndarray | None
    """`[n, d_sae]` the dictionary's latents, mean over each sentence's tokens."""


@torch.no_grad()
def pooled_activations(
    model: LanguageModel, hook: str, texts: list[str], dictionary: Dictionary | None = None
) -> PooledActivations:
    """Sentences of equal token length run as one batch (BOS prepended, not pooled)."""
    (point,) = model.resolve_hooks(hook)
    by_length: dict[int, list[int]] = defaultdict(list)
    encoded = [model.tokenizer(t, add_special_tokens=False).input_ids for t in texts]
    for i, ids in enumerate(encoded):
        by_length[len(ids)].append(i)
    bos = model.tokenizer.bos_token_id
    neurons = [None] * len(texts)
    latents = [None] * len(texts)
    for rows in by_length.values():
        ids = torch.tensor([([bos] if bos is not None else []) + encoded[i] for i in rows])
        acts = model.capture(ids, [point])[point.name].float()
        acts = acts[:, 1:] if bos is not None else acts
        pooled = acts.mean(1)
        codes = dictionary.encode(acts).mean(1) if dictionary is not None else None
        for j, i in enumerate(rows):
            neurons[i] = pooled[j]
            if codes is not None:
                latents[i] = codes[j]
    return PooledActivations(
        torch.stack(neurons).cpu().numpy(),
        torch.stack(latents).cpu().numpy() if dictionary is not None else None,
    )


def score_latents(
    latents: np.ndarray, factors: np.ndarray, uncertainty: Uncertainty | None = None
) -> dict[str, Estimate]:
    """Every metric with the dictionary-scale estimators, flattened to one row (intervals when
    `uncertainty` is given)."""
    return flat_scores(metric_table(latents, factors, options=FAST, uncertainty=uncertainty))


def score_sentence_factors(
    model: LanguageModel,
    hook: str,
    sentences: FactorSentences,
    dictionary: Dictionary | None,
    uncertainty: Uncertainty | None = None,
) -> dict[str, dict[str, Estimate]]:
    """`{"neurons": metrics, "dictionary": metrics}` at `hook` (dictionary row only if given)."""
    pooled = pooled_activations(model, hook, sentences.texts, dictionary)
    rows = {"neurons": pooled.neurons, "dictionary": pooled.dictionary}
    return {
        name: score_latents(z, sentences.factors, uncertainty)
        for name, z in rows.items()
        if z is not None
    }
