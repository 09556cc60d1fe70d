"""Explainers behind one interface: an LLM over a `Client`, and two that need no model — the
latent's most frequent activating tokens and its top promoted tokens through the unembedding
(the baselines every LLM explanation has to beat)."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from transformers import PreTrainedTokenizerBase

from saekit.analysis.autointerp.clients import Client
from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.prompts import explain_messages, parse_explanation
from saekit.analysis.autointerp.text import marked, normalised, token_strings
from saekit.analysis.autointerp.vocab import VocabTokens


class Explanation(NamedTuple):
    text: str
    """The explanation ('' when parsing failed)."""
    parsed: bool
    raw: str
    """What the explainer returned before parsing."""


class Explainer(Protocol):
    name: str

    def explain(self, batch: list[LatentExamples]) -> list[Explanation]: ...


def _quoted(words: list[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)


class TokenFrequencyExplainer:
    """The tokens the latent fires on most often in its train examples."""

    name = "token-frequency"

    def __init__(self, tokenizer: PreTrainedTokenizerBase, top: int = 5):
        self.tokenizer, self.top = tokenizer, top

    def explain(self, batch: list[LatentExamples]) -> list[Explanation]:
        out = []
        for examples in batch:
            counts = Counter()
            for e in examples.train:
                counts.update(t for t, a in zip(e.tokens, e.activations, strict=True) if a > 0)
            words = [
                self.tokenizer.decode([t]).strip() or repr(self.tokenizer.decode([t]))
                for t, _ in counts.most_common(self.top)
            ]
            text = f"the tokens {_quoted(list(dict.fromkeys(words)))}"
            out.append(Explanation(text, True, text))
        return out


class VocabProjExplainer:
    """The tokens the latent's decoder direction promotes most."""

    name = "vocab-projection"

    def __init__(self, projections: dict[int, VocabTokens], top: int = 5):
        self.projections, self.top = projections, top

    def explain(self, batch: list[LatentExamples]) -> list[Explanation]:
        out = []
        for examples in batch:
            words = [w.strip() for w in self.projections[examples.latent].promoted[: self.top]]
            text = f"text that comes before {_quoted(words)}"
            out.append(Explanation(text, True, text))
        return out


class LLMExplainer:
    """An LLM reads the train examples with their activating tokens marked (optionally with
    0–10 activations) and answers after a fixed marker."""

    def __init__(
        self,
        client: Client,
        tokenizer: PreTrainedTokenizerBase,
        show_activations: bool = False,
        max_tokens: int = 60,
    ):
        self.client, self.tokenizer = client, tokenizer
        self.show_activations, self.max_tokens = show_activations, max_tokens
        self.name = f"llm:{client.name}"

    def _messages(self, examples: LatentExamples):
        texts, values = [], []
        top = examples.max_activation
        for e in examples.train:
            pieces = token_strings(self.tokenizer, e.tokens)
            texts.append(marked(pieces, [a > 0 for a in e.activations]))
            scaled = normalised(e.activations, top)
            pairs = zip(pieces, scaled, strict=True)
            values.append(", ".join(f"{p!r} ({s})" for p, s in pairs if s > 0))
        return explain_messages(texts, values if self.show_activations else None)

    def explain(self, batch: list[LatentExamples]) -> list[Explanation]:
        answers = self.client.generate([self._messages(e) for e in batch], self.max_tokens)
        out = []
        for answer in answers:
            text = parse_explanation(answer)
            out.append(Explanation(text or "", text is not None, answer))
        return out


@dataclass(frozen=True)
class ExplainerInputs:
    """Everything an explainer may be built from."""

    client: Client
    tokenizer: PreTrainedTokenizerBase
    vocab: dict[int, VocabTokens] | None
    """Each latent's promoted tokens (None for neurons)."""
    show_activations: bool = False


ExplainerFactory = Callable[[ExplainerInputs], Explainer]


def _vocab_projection(inputs: ExplainerInputs) -> Explainer:
    if inputs.vocab is None:
        raise ValueError("the vocab-projection explainer needs a dictionary (not neurons)")
    return VocabProjExplainer(inputs.vocab)


EXPLAINERS: dict[str, ExplainerFactory] = {
    "token-frequency": lambda i: TokenFrequencyExplainer(i.tokenizer),
    "vocab-projection": _vocab_projection,
    "llm": lambda i: LLMExplainer(i.client, i.tokenizer, i.show_activations),
}
"""Explainer name -> how to build it (`--explainer` offers these; `register_explainer` adds)."""


def register_explainer(name: str, factory: ExplainerFactory) -> None:
    if name in EXPLAINERS:
        raise ValueError(f"an explainer named {name!r} is already registered")
    EXPLAINERS[name] = factory


def make_explainer(name: str, inputs: ExplainerInputs) -> Explainer:
    if name not in EXPLAINERS:
        raise ValueError(f"unknown explainer {name!r}: choose from {list(EXPLAINERS)}")
    return EXPLAINERS[name](inputs)
