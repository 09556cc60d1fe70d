"""Scorers: each takes a latent's test examples and an explanation and returns per-example
predictions with summary metrics. Detection and fuzzing ask a yes/no judge; embedding compares
MiniLM vectors; surprisal measures how much the explanation helps a language model predict the
example; intervention steers the latent and asks whether the explanation predicts the change."""

from saekit.analysis.autointerp.scorers.base import Prediction, Scorer, ScoreResult
from saekit.analysis.autointerp.scorers.embedding import EmbeddingScorer
from saekit.analysis.autointerp.scorers.intervention import InterventionScorer
from saekit.analysis.autointerp.scorers.judged import DetectionScorer, FuzzingScorer
from saekit.analysis.autointerp.scorers.metrics import binary_metrics, roc_auc
from saekit.analysis.autointerp.scorers.surprisal import SurprisalScorer

__all__ = [
    "DetectionScorer",
    "EmbeddingScorer",
    "FuzzingScorer",
    "InterventionScorer",
    "Prediction",
    "ScoreResult",
    "Scorer",
    "SurprisalScorer",
    "binary_metrics",
    "roc_auc",
]
