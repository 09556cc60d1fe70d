"""Surprisal scorer: a language model's mean loss on each example after a prefix stating the
explanation, against the same prefix with a neutral statement; an explanation that fits lowers
the loss on activating examples more than on others. Score: the loss drop; ROC-AUC."""

import torch
import torch.nn.functional as F

from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.scorers.base import ScoreResult, labelled
from saekit.analysis.autointerp.scorers.metrics import roc_auc
from saekit.models import LanguageModel

NEUTRAL = "text of any kind"


def explanation_prefix(explanation: str) -> str:
    return f"The following text is about {explanation}:\n"


class SurprisalScorer:
    name = "surprisal"

    def __init__(self, model: LanguageModel, batch_size: int = 16):
        self.model, self.batch_size = model, batch_size

    @torch.no_grad()
    def losses(self, prefix: str, examples: list[list[int]]) -> list[float]:
        """Mean next-token loss over each example's tokens after `prefix` (BOS first)."""
        tokenizer = self.model.tokenizer
        head = tokenizer(prefix, add_special_tokens=False).input_ids
        if tokenizer.bos_token_id is not None:
            head = [tokenizer.bos_token_id, *head]
        out = []
        for start in range(0, len(examples), self.batch_size):
            chunk = [head + list(e) for e in examples[start : start + self.batch_size]]
            width = max(len(c) for c in chunk)
            ids = torch.zeros(len(chunk), width, dtype=torch.long)  # cpu: moved below
            mask = torch.zeros(len(chunk), width, dtype=torch.bool)  # cpu: logits come back
            for i, c in enumerate(chunk):
                ids[i, : len(c)] = torch.tensor(c)  # cpu: into ids
                mask[i, len(head) : len(c)] = True  # the example's tokens are scored
            logits = self.model.forward(ids.to(self.model.device)).float().cpu()
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")
            scored = mask[:, 1:]
            out += ((nll * scored).sum(1) / scored.sum(1).clamp_min(1)).tolist()
        return out

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        pairs = labelled(examples)
        tokens = [e.tokens for e, _ in pairs]
        drop = [
            neutral - explained
            for neutral, explained in zip(
                self.losses(explanation_prefix(NEUTRAL), tokens),
                self.losses(explanation_prefix(explanation), tokens),
                strict=True,
            )
        ]
        predictions = [p._replace(score=s) for (_, p), s in zip(pairs, drop, strict=True)]
        truth = [p.truth for p in predictions]
        return ScoreResult(self.name, {"roc_auc": roc_auc(truth, drop)}, predictions)
