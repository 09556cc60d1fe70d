"""What a scorer returns."""

from typing import NamedTuple, Protocol

from saekit.analysis.autointerp.examples import LatentExamples
from saekit.latents.contexts import Example


class Prediction(NamedTuple):
    kind: str
    """activating, random (negative) or hard (negative)."""
    quantile: int | None
    """Activation quantile of an activating example (0 = strongest)."""
    truth: bool
    score: float
    """P(yes) for judged scorers, similarity or loss drop otherwise (higher = fits)."""


class ScoreResult(NamedTuple):
    scorer: str
    metrics: dict[str, float | None]
    predictions: list[Prediction]


class Scorer(Protocol):
    name: str

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult: ...


def labelled(examples: LatentExamples) -> list[tuple[Example, Prediction]]:
    """Every test example with its label (score left at 0 for the scorer to fill)."""
    out = [
        (e, Prediction("activating", q, True, 0.0))
        for e, q in zip(examples.activating, examples.quantile, strict=True)
    ]
    out += [(e, Prediction("random", None, False, 0.0)) for e in examples.random_negatives]
    out += [(e, Prediction("hard", None, False, 0.0)) for e in examples.hard_negatives]
    return out
