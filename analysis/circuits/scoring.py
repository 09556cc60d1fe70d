"""Scoring a circuit method against two ground truths. `patching`: the heads whose |normalised
patching effect| reaches a threshold (a fraction of the whole clean-to-corrupt change) — the
heads the metric depends on. `response`: as many heads, taken by how much their output changes
under the corruption — the heads that react to it (what a hand-labelled circuit such as the
paper's GPT-2 IOI circuit is mostly made of). A method's head scores are judged by ROC-AUC and by
precision / recall at the true circuit's size, at several thresholds so no conclusion hangs on
one."""

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


@dataclass(frozen=True)
class TruthSet:
    """One ground-truth circuit: the heads in it."""

    threshold: float
    """The |normalised patching effect| that sets its size."""
    members: Tensor
    """`[heads]` bool (flattened layer-major)."""


def patching_truth(effects: Tensor, thresholds: Sequence[float] = THRESHOLDS) -> list[TruthSet]:
    """The heads whose |normalised patching effect| reaches each threshold: those the metric
    depends on."""
    magnitude = torch.as_tensor(effects).flatten().abs()
    return [TruthSet(t, magnitude >= t) for t in thresholds]


def response_truth(
    effects: Tensor, responses: Tensor, thresholds: Sequence[float] = THRESHOLDS
) -> list[TruthSet]:
    """As many heads as the patching truth holds at each threshold, taken by how much their
    output changes under the corruption (`writes.head_responses`): those that react to it."""
    order = torch.as_tensor(responses).flatten().float().argsort(descending=True, stable=True)
    sets = []
    for truth in patching_truth(effects, thresholds):
        members = torch.zeros_like(truth.members)
        members[order[: int(truth.members.sum())]] = True
        sets.append(TruthSet(truth.threshold, members))
    return sets


def score_against_sets(scores: Tensor, truths: Sequence[TruthSet]) -> list[CircuitScore]:
    """Judge head `scores [L, H]` (higher: more in the circuit) against each truth."""
    flat_scores = torch.as_tensor(scores).flatten().float()
    known = ~torch.isnan(flat_scores)
    results = []
    for truth in truths:
        scored, members = flat_scores[known], truth.members[known]
        size = int(members.sum())
        top = scored.topk(size).indices if size else torch.empty(0, dtype=torch.long)  # cpu: scores
        precision = float(members[top].float().mean()) if size else float("nan")
        results.append(CircuitScore(truth.threshold, size, roc_auc(scored, members), precision))
    return results


def score_against_truth(
    scores: Tensor, truth_effects: Tensor, thresholds: Sequence[float] = THRESHOLDS
) -> list[CircuitScore]:
    """Judge head `scores [L, H]` against the patching truth (heads whose effect is NaN, i.e.
    not patched, left out)."""
    effects = torch.as_tensor(truth_effects).flatten()
    patched = ~torch.isnan(effects)
    kept = torch.as_tensor(scores).flatten().float()[patched]
    return score_against_sets(kept, patching_truth(effects[patched], thresholds))
