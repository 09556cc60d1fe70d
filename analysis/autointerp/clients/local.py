"""A local Hugging Face chat model as a client: batched greedy generation with the tokenizer's
chat template, and yes/no judging by one forward pass (the log-probabilities of the answer
tokens "Yes" and "No" at the first answer position), no generation."""

import torch
from torch import Tensor

from saekit.analysis.autointerp.clients.base import yes_share
from saekit.analysis.autointerp.prompts import Messages
from saekit.models import LanguageModel


def _first_tokens(tokenizer, words: list[str]) -> list[int]:
    ids = {tokenizer(w, add_special_tokens=False).input_ids[0] for w in words}
    return sorted(ids)


class LocalClient:
    def __init__(self, model: LanguageModel, batch_size: int = 16):
        self.model = model
        self.tokenizer = model.tokenizer
        self.batch_size = batch_size
        self.name = f"local:{model.spec}"
        self.yes_ids = _first_tokens(self.tokenizer, ["Yes", " Yes", "yes", " yes"])
        self.no_ids = _first_tokens(self.tokenizer, ["No", " No", "no", " no"])

    def _encode(self, conversations: list[Messages]) -> tuple[Tensor, Tensor]:
        """Left-padded prompt ids and attention mask, each ending where the answer starts."""
        texts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
            for c in conversations
        ]
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        try:
            enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side
        device = self.model.device
        return enc.input_ids.to(device), enc.attention_mask.to(device)

    @torch.no_grad()
    def generate(self, conversations: list[Messages], max_tokens: int = 60) -> list[str]:
        out = []
        for start in range(0, len(conversations), self.batch_size):
            ids, mask = self._encode(conversations[start : start + self.batch_size])
            generated = self.model.module.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            answers = generated[:, ids.shape[1] :]
            out += self.tokenizer.batch_decode(answers, skip_special_tokens=True)
        return out

    @torch.no_grad()
    def yes_probability(self, conversations: list[Messages]) -> list[float]:
        out = []
        for start in range(0, len(conversations), self.batch_size):
            ids, mask = self._encode(conversations[start : start + self.batch_size])
            positions = (mask.cumsum(1) - 1).clamp_min(0)
            logits = self.model.module(
                input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False
            ).logits[:, -1]
            logp = logits.float().log_softmax(-1)
            yes = logp[:, self.yes_ids].logsumexp(-1)
            no = logp[:, self.no_ids].logsumexp(-1)
            out += [yes_share(float(y), float(n)) for y, n in zip(yes, no, strict=True)]
        return out
