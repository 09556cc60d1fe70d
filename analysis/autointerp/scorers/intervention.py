"""Intervention scorer (output side, after Paulo et al.): add the latent to the residual stream
(the dictionary spliced in with its error kept, so only that latent changes) at a strength found
by bisection so that the next-token KL divergence from the clean model reaches `target_kl`
(delphi: 0.5), generate greedily from neutral prompts with and without it, and ask whether the
explanation predicts the change: the surprisal drop an explanation prefix gives the steered text
against the drop it gives the clean text. ROC-AUC of steered over clean (0.5: no prediction)."""

from collections.abc import Sequence
from typing import NamedTuple

import torch

from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.scorers.base import Prediction, ScoreResult
from saekit.analysis.autointerp.scorers.metrics import roc_auc
from saekit.analysis.autointerp.scorers.surprisal import (
    NEUTRAL,
    SurprisalScorer,
    explanation_prefix,
)
from saekit.models import LanguageModel
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.splice import LatentEdit, reconstruct, replacing

PROMPTS = (
    "The",
    "In the beginning,",
    "My favourite thing is",
    "Yesterday I",
    "The report says that",
    "Here is a short list:",
)


class Steered(NamedTuple):
    strength: float
    kl: float
    clean: list[list[int]]
    steered: list[list[int]]


class InterventionScorer:
    name = "intervention"

    def __init__(
        self,
        model: LanguageModel,
        dictionary: Dictionary,
        prompts: Sequence[str] = PROMPTS,
        target_kl: float = 0.5,
        new_tokens: int = 12,
        search_steps: int = 10,
    ):
        self.model, self.dictionary = model, dictionary
        self.hook = resolve_hook(dictionary)
        self.target_kl, self.new_tokens, self.search_steps = target_kl, new_tokens, search_steps
        tok = model.tokenizer
        bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
        self.prompts = [bos + tok(p, add_special_tokens=False).input_ids for p in prompts]
        self.surprisal = SurprisalScorer(model)
        self._texts: dict[int, Steered] = {}  # per latent: they do not depend on the explanation

    def _steering(self, latent: int, strength: float):
        edit = LatentEdit(add={latent: strength})

        def steered(x):
            out = reconstruct(self.dictionary, x, edit, keep_error=True)
            out[:, 0] = x[:, 0]  # BOS untouched, as in training
            return out

        return replacing(self.model, self.hook, steered)

    @torch.no_grad()
    def _next_token_logp(self, ids: list[int]) -> torch.Tensor:
        logits = self.model.forward(torch.tensor([ids], device=self.model.device))
        return logits[0, -1].float().log_softmax(-1)

    def _kl(self, latent: int, strength: float, clean: list[torch.Tensor]) -> float:
        with self._steering(latent, strength):
            steered = [self._next_token_logp(p) for p in self.prompts]
        kls = [(c.exp() * (c - s)).sum() for c, s in zip(clean, steered, strict=True)]
        return float(torch.stack(kls).mean())

    def strength_for(self, latent: int, scale: float) -> tuple[float, float]:
        """Bisection on the added value, in (0, 64 * scale], for mean KL = target_kl."""
        clean = [self._next_token_logp(p) for p in self.prompts]
        lo, hi = 0.0, 64.0 * max(scale, 1e-3)
        kl = self._kl(latent, hi, clean)
        if kl < self.target_kl:
            return hi, kl
        for _ in range(self.search_steps):
            mid = (lo + hi) / 2
            kl = self._kl(latent, mid, clean)
            lo, hi = (mid, hi) if kl < self.target_kl else (lo, mid)
        return hi, self._kl(latent, hi, clean)

    @torch.no_grad()
    def _generate(self, ids: list[int]) -> list[int]:
        out = list(ids)
        for _ in range(self.new_tokens):
            out.append(int(self._next_token_logp(out).argmax()))
        return out[len(ids) :]

    def steered_texts(self, examples: LatentExamples) -> Steered:
        """Greedy continuations of the prompts without and with the latent added (cached)."""
        if examples.latent not in self._texts:
            strength, kl = self.strength_for(examples.latent, examples.max_activation)
            clean = [self._generate(p) for p in self.prompts]
            with self._steering(examples.latent, strength):
                steered = [self._generate(p) for p in self.prompts]
            self._texts[examples.latent] = Steered(strength, kl, clean, steered)
        return self._texts[examples.latent]

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        run = self.steered_texts(examples)
        texts = run.clean + run.steered
        drop = [
            neutral - explained
            for neutral, explained in zip(
                self.surprisal.losses(explanation_prefix(NEUTRAL), texts),
                self.surprisal.losses(explanation_prefix(explanation), texts),
                strict=True,
            )
        ]
        truth = [False] * len(run.clean) + [True] * len(run.steered)
        predictions = [
            Prediction("steered" if t else "clean", None, t, d)
            for t, d in zip(truth, drop, strict=True)
        ]
        metrics = {"roc_auc": roc_auc(truth, drop), "strength": run.strength, "kl": run.kl}
        return ScoreResult(self.name, metrics, predictions)
