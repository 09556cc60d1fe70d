"""Output-side view of a latent: the tokens its decoder direction promotes and suppresses
through the unembedding ("VocabProj", Gur-Arieh et al.; the logit lens on W_dec rows), with the
final norm's weight folded in (Gemma's norms scale by 1 + weight)."""

from collections.abc import Sequence
from typing import NamedTuple

import torch

from saekit.models import LanguageModel
from saekit.sae import Dictionary


class VocabTokens(NamedTuple):
    promoted: list[str]
    suppressed: list[str]
    promoted_logits: list[float]
    """Logit change per unit of the latent, for each promoted token."""
    suppressed_logits: list[float]


def _final_norm_scale(model: LanguageModel) -> torch.Tensor:
    inner = getattr(model.module, "model", model.module)
    norm = getattr(inner, "norm", None)
    if norm is None or getattr(norm, "weight", None) is None:
        weight = model.module.get_output_embeddings().weight
        return torch.ones(weight.shape[1], device=weight.device)
    weight = norm.weight.detach().float()
    return 1 + weight if model.module.config.model_type.startswith("gemma") else weight


@torch.no_grad()
def vocab_projection(
    dictionary: Dictionary, model: LanguageModel, latents: Sequence[int], k: int = 10
) -> dict[int, VocabTokens]:
    """Per latent, the `k` tokens with the largest and the smallest logit change per unit of it."""
    unembed = model.module.get_output_embeddings().weight.detach().float().cpu()
    directions = dictionary.W_dec.detach().float().cpu()[list(latents)]
    if directions.shape[1] != unembed.shape[1]:
        raise ValueError(
            f"the dictionary writes {directions.shape[1]}-d vectors but the model's unembedding "
            f"reads {unembed.shape[1]}-d: it was not trained on this model's residual stream"
        )
    logits = (directions * _final_norm_scale(model).cpu()) @ unembed.T
    up, down = logits.topk(k, dim=1), logits.topk(k, dim=1, largest=False)
    decode = model.tokenizer.decode
    return {
        latent: VocabTokens(
            [decode([int(t)]) for t in up.indices[i]],
            [decode([int(t)]) for t in down.indices[i]],
            [round(v, 4) for v in up.values[i].tolist()],
            [round(v, 4) for v in down.values[i].tolist()],
        )
        for i, latent in enumerate(latents)
    }
