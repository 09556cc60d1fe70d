"""Summary metrics of a scorer's predictions: balanced accuracy, precision, recall and F1 of the
yes/no decisions, and ROC-AUC of the scores (ties count half)."""

from collections.abc import Sequence

import numpy as np


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Probability that a random positive scores above a random negative (None without both)."""
    truth, scores = np.asarray(truth, dtype=bool), np.asarray(scores, dtype=float)
    positives, negatives = scores[truth], scores[~truth]
    if len(positives) == 0 or len(negatives) == 0:
        return None
    above = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(above + 0.5 * ties)


def binary_metrics(
    truth: Sequence[bool], predicted: Sequence[bool], scores: Sequence[float] | None = None
) -> dict[str, float | None]:
    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    tn = int((~truth & ~predicted).sum())
    recall = tp / (tp + fn) if tp + fn else None
    specificity = tn / (tn + fp) if tn + fp else None
    precision = tp / (tp + fp) if tp + fp else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    parts = [x for x in (recall, specificity) if x is not None]
    return {
        "balanced_accuracy": float(np.mean(parts)) if parts else None,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(truth, scores) if scores is not None else None,
    }
