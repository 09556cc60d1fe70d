"""What a graph explains: the prompt's tokens (BOS prepended) and the logit nodes (the top
next tokens until 95 % of the probability, at most 10, as circuit-tracer; or chosen ids)."""

from dataclasses import dataclass

import torch
from torch import Tensor

from saekit.models import LanguageModel


@dataclass(frozen=True)
class LogitTargets:
    tokens: Tensor
    """`[n]` token ids, by descending probability."""
    probabilities: Tensor
    """`[n]`."""


def top_logits(logits: Tensor, max_logits: int = 10, probability: float = 0.95) -> LogitTargets:
    """The most likely next tokens until their probability reaches `probability`, at most
    `max_logits` (circuit-tracer's rule)."""
    probs = logits.float().softmax(-1)
    top = probs.topk(min(max_logits, probs.numel()))
    cumulative = top.values.cumsum(0)
    keep = (
        int(torch.searchsorted(cumulative, torch.tensor(probability, device=cumulative.device))) + 1
    )
    keep = min(keep, top.values.numel())
    return LogitTargets(top.indices[:keep], top.values[:keep])


def chosen_logits(logits: Tensor, tokens: list[int]) -> LogitTargets:
    """Logit nodes for given token ids (checked against the vocabulary)."""
    vocab = logits.numel()
    bad = [t for t in tokens if not 0 <= t < vocab]
    if bad:
        raise ValueError(f"logit targets {bad} are not token ids of this model (0..{vocab - 1})")
    probs = logits.float().softmax(-1)
    ids = torch.tensor(tokens, device=logits.device)
    return LogitTargets(ids, probs[ids])


def prompt_tokens(model: LanguageModel, prompt: str | Tensor) -> Tensor:
    """Token ids of a prompt: text is tokenized with BOS prepended (as saekit's data pipeline)."""
    if isinstance(prompt, Tensor):
        return prompt.long().flatten()
    if not prompt:
        raise ValueError("the prompt is empty: pass some text")
    ids = model.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    bos = model.tokenizer.bos_token_id
    return torch.tensor(([bos] if bos is not None else []) + ids)  # cpu: moved by the model run
