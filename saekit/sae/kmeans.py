"""k-means (Lloyd's algorithm) for codebook initialisation."""

import torch
from torch import Tensor


def assign(x: Tensor, centroids: Tensor, chunk: int = 8192) -> Tensor:
    """Index of the nearest centroid for each row of `x`."""
    c_sq = centroids.pow(2).sum(-1)
    return torch.cat([(c_sq - 2 * part @ centroids.T).argmin(-1) for part in x.split(chunk)])


@torch.no_grad()
def kmeans(x: Tensor, n_clusters: int, iterations: int = 20) -> Tensor:
    """`[n_clusters, d]` centroids; starts from random rows (torch's global RNG), re-seeds
    empty clusters with random rows."""
    if x.shape[0] < n_clusters:
        raise ValueError(f"k-means needs at least {n_clusters} rows, got {x.shape[0]}")
    centroids = x[torch.randperm(x.shape[0], device=x.device)[:n_clusters]].clone()
    for _ in range(iterations):
        labels = assign(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=n_clusters).to(x.dtype)
        empty = counts == 0
        centroids = torch.where(empty[:, None], centroids, sums / counts.clamp_min(1)[:, None])
        if empty.any():
            centroids[empty] = x[torch.randint(0, x.shape[0], (int(empty.sum()),), device=x.device)]
    return centroids


def quantization_error(x: Tensor, centroids: Tensor) -> float:
    """Mean squared distance from each row to its nearest centroid."""
    return float((x - centroids[assign(x, centroids)]).pow(2).sum(-1).mean())
