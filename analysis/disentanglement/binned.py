"""Plug-in mutual information between latents and factors on equal-width histogram bins (the
estimator of Locatello et al. 2019 that MIG and modularity use), vectorised over latents.

For a sparse latent matrix only the stored entries are visited: the implicit zeros of each
latent all fall into one bin, whose counts per factor value are the factor's counts minus those
of the stored entries. Work is O(nnz + L * bins * K), so latents that never fire cost nothing
beyond their empty row of the table. Bins match `np.histogram_bin_edges(column, bins)` +
`np.digitize` exactly.

`correction="miller-madow"` adds the Miller–Madow term to each of the three entropies behind
I = H(z) + H(v) - H(z, v): (m - 1) / 2N for m occupied cells, so
I_MM = I + (m_z + m_v - m_zv - 1) / 2N. The plug-in estimate of an independent pair is biased
upward by about (m_z - 1)(m_v - 1) / 2N; the corrected one is near 0 and is clipped at 0 so the
normalised ratios built on it stay defined."""

import numpy as np
from scipy.special import xlogy

from saekit.analysis.disentanglement.inputs import Latents, column_ranges, stored_entries
from saekit.analysis.disentanglement.settings import Correction, check_correction


def _bin_index(x: np.ndarray, col: np.ndarray, edges: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each value `x` of latent `col` given per-latent `edges [L, bins + 1]`."""
    lo, width = edges[col, 0], edges[col, -1] - edges[col, 0]
    b = np.clip(np.floor((x - lo) / width * bins), 0, bins - 1).astype(np.int64)
    # exact agreement with np.digitize(x, edges[1:-1]) despite rounding in the division
    b += (b < bins - 1) & (x >= edges[col, np.minimum(b + 1, bins)])
    b -= (b > 0) & (x < edges[col, b])
    return b


def _edges(z: Latents, bins: int) -> np.ndarray:
    lo, hi = column_ranges(z)
    constant = lo == hi
    lo, hi = np.where(constant, lo - 0.5, lo), np.where(constant, hi + 0.5, hi)
    return np.linspace(lo, hi, bins + 1, axis=1)


def mi_from_counts(table: np.ndarray, n: int, correction: Correction = None) -> np.ndarray:
    """`table [L, cells, K]` joint counts -> `[L]` mutual information in nats."""
    per_bin = table.sum(2, keepdims=True)
    per_value = table.sum(1, keepdims=True)
    terms = xlogy(table, table) - xlogy(table, per_bin) - xlogy(table, per_value)
    mi = (terms.sum((1, 2)) + table.sum((1, 2)) * np.log(n)) / n
    if correction is None:
        return mi
    occupied = (per_bin > 0).sum((1, 2)) + (per_value > 0).sum((1, 2)) - (table > 0).sum((1, 2))
    return np.maximum(mi + (occupied - 1) / (2 * n), 0.0)


def discrete_mi(codes: np.ndarray, factors: np.ndarray, correction: Correction = None):
    """`[L, F]` plug-in MI (nats) between each discrete latent (any values) and each factor."""
    check_correction(correction)
    n, n_latents = codes.shape
    cells = np.stack([np.unique(c, return_inverse=True)[1] for c in codes.T], axis=1)
    size = int(cells.max()) + 1
    out = np.zeros((n_latents, factors.shape[1]))
    for i, v in enumerate(factors.T):
        k = int(v.max()) + 1
        index = (np.arange(n_latents) * size + cells) * k + v[:, None]
        table = np.bincount(index.ravel(), minlength=n_latents * size * k)
        out[:, i] = mi_from_counts(table.reshape(n_latents, size, k), n, correction)
    return out


def binned_mi(
    z: Latents, factors: np.ndarray, bins: int = 20, correction: Correction = None
) -> np.ndarray:
    """`[L, F]` plug-in MI (nats) between each binned latent and each integer-coded factor."""
    check_correction(correction)
    n, n_latents = z.shape
    edges = _edges(z, bins)
    out = np.zeros((n_latents, factors.shape[1]))
    for i in range(factors.shape[1]):
        v = factors[:, i]
        k = int(v.max()) + 1
        table = np.zeros(n_latents * bins * k, dtype=np.int64)
        stored = np.zeros(n_latents * k, dtype=np.int64)
        for rows, cols, values in stored_entries(z):
            b = _bin_index(values, cols, edges, bins)
            table += np.bincount((cols * bins + b) * k + v[rows], minlength=table.size)
            stored += np.bincount(cols * k + v[rows], minlength=stored.size)
        table = table.reshape(n_latents, bins, k)
        zeros = np.bincount(v, minlength=k)[None, :] - stored.reshape(n_latents, k)
        if zeros.any():  # implicit zeros of a sparse matrix: one bin per latent
            zero_bin = _bin_index(np.zeros(n_latents), np.arange(n_latents), edges, bins)
            table[np.arange(n_latents), zero_bin] += zeros
        out[:, i] = mi_from_counts(table, n, correction)
    return out


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    """`[F]` entropy (nats) of each integer-coded factor."""
    out = []
    for column in factors.T:
        p = np.bincount(column) / len(column)
        out.append(-xlogy(p, p).sum())
    return np.array(out)
