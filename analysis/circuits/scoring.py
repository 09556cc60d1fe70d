"""Scoring a circuit method against a ground truth: the true circuit is the heads whose
|normalised patching effect| reaches a threshold (a fraction of the whole clean-to-corrupt
change); a method's head scores are judged by ROC-AUC and by precision / recall at the true
circuit's size, at several thresholds so no conclusion hangs on one."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

THRESHOLDS = (0.02, 0.05, 0.1)
"""|normalised effect| a head needs to count as part of the true circuit."""


@dataclass(frozen=True)
class CircuitScore:
    threshold: float
    true_heads: int
    """Heads in the ground-truth circuit at this threshold."""
    roc_auc: float
    """NaN when the truth has no positives or no negatives."""
    precision_at_size: float
    """Precision (= recall) of the method's top-|circuit| heads."""


def roc_auc(scores: Sequence[float] | Tensor, truth: Sequence[bool] | Tensor) -> float:
    """Area under the ROC curve: the probability that a true head outscores a false one (ties
    count half), computed from ranks (Mann-Whitney U)."""
    scores, truth = np.asarray(scores, dtype=float), np.asarray(truth, dtype=bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    u = ranks[truth].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def roc_curve(scores: Tensor, truth: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates as the score threshold sweeps down (for plots)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    hits = np.asarray(truth, dtype=bool)[order]
    tpr = np.concatenate([[0.0], np.cumsum(hits) / max(hits.sum(), 1)])
    fpr = np.concatenate([[0.0], np.cumsum(~hits) / max((~hits).sum(), 1)])
    return fpr, tpr


def score_against_truth(
    scores: Tensor, truth_effects: Tensor, thresholds: Sequence[float] = THRESHOLDS
) -> list[CircuitScore]:
    """Judge head `scores [L, H]` (higher: more in the circuit) against patching effects."""
    flat_scores = torch.as_tensor(scores).flatten().float()
    magnitude = torch.as_tensor(truth_effects).flatten().abs()
    keep = ~(torch.isnan(magnitude) | torch.isnan(flat_scores))
    flat_scores, magnitude = flat_scores[keep], magnitude[keep]
    results = []
    for threshold in thresholds:
        truth = magnitude >= threshold
        size = int(truth.sum())
        top = flat_scores.topk(size).indices if size else torch.empty(0, dtype=torch.long)
        precision = float(truth[top].float().mean()) if size else float("nan")
        results.append(CircuitScore(threshold, size, roc_auc(flat_scores, truth), precision))
    return results
