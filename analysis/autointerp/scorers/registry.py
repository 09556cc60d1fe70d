"""Scorer name -> how to build it: the one list `--scorers` offers and the pipeline builds from.
Adding a scorer is one file (its class) and one entry here (or `register_scorer` from your own
code)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from saekit.analysis.autointerp.clients import Client
from saekit.analysis.autointerp.scorers.base import Scorer
from saekit.analysis.autointerp.scorers.embedding import EmbeddingScorer
from saekit.analysis.autointerp.scorers.intervention import InterventionScorer
from saekit.analysis.autointerp.scorers.judged import DetectionScorer, FuzzingScorer
from saekit.analysis.autointerp.scorers.surprisal import SurprisalScorer
from saekit.analysis.embeddings import SentenceEmbedder
from saekit.models import LanguageModel
from saekit.sae import Dictionary


@dataclass(frozen=True)
class ScorerInputs:
    """Everything a scorer may be built from."""

    client: Client
    """The yes/no judge (local model or server)."""
    model: LanguageModel
    embedder: SentenceEmbedder
    seed: int
    dictionary: Dictionary | None
    """None when neurons are interpreted."""


ScorerFactory = Callable[[ScorerInputs], Scorer]


def _intervention(inputs: ScorerInputs) -> Scorer:
    if inputs.dictionary is None:
        raise ValueError("the intervention scorer steers a dictionary's latent: not for neurons")
    return InterventionScorer(inputs.model, inputs.dictionary)


SCORERS: dict[str, ScorerFactory] = {
    "detection": lambda i: DetectionScorer(i.client, i.model.tokenizer),
    "fuzzing": lambda i: FuzzingScorer(i.client, i.model.tokenizer, i.seed),
    "embedding": lambda i: EmbeddingScorer(i.embedder, i.model.tokenizer),
    "surprisal": lambda i: SurprisalScorer(i.model),
    "intervention": _intervention,
}
DEFAULT_SCORERS = ("detection", "fuzzing", "embedding", "surprisal")
"""Intervention, which steers the latent, is opt-in: it needs a dictionary and is the slowest."""


def register_scorer(name: str, factory: ScorerFactory) -> None:
    """Make a scorer available to the pipeline and to `saekit interpret --scorers`."""
    if name in SCORERS:
        raise ValueError(f"a scorer named {name!r} is already registered")
    SCORERS[name] = factory


def make_scorers(names: Sequence[str], inputs: ScorerInputs) -> list[Scorer]:
    unknown = sorted(set(names) - set(SCORERS))
    if unknown:
        raise ValueError(f"unknown scorers {unknown}: choose from {list(SCORERS)}")
    return [SCORERS[name](inputs) for name in names]
