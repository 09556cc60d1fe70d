"""Data-dependent initialisation: input scaling and the geometric median of a batch."""

import torch
from torch import Tensor


def norm_scale(x: Tensor, target: float = 1.0) -> float:
    """Factor that makes the mean row norm `target` * sqrt(d) (1: SAELens'
    `expected_average_only_in`)."""
    return float(target * x.shape[1] ** 0.5 / x.norm(dim=1).mean().clamp_min(1e-8))


@torch.no_grad()
def geometric_median(points: Tensor, iterations: int = 50, eps: float = 1e-6) -> Tensor:
    """Weiszfeld's algorithm: the point minimising the sum of Euclidean distances."""
    median = points.mean(dim=0)
    for _ in range(iterations):
        weights = 1.0 / (points - median).norm(dim=1).clamp_min(eps)
        update = (weights[:, None] * points).sum(0) / weights.sum()
        if (update - median).norm() < eps * (1 + median.norm()):
            return update
        median = update
    return median
