"""Input checks shared by the metrics: latents `[N, L]` as a dense array or, for a dictionary's
mostly-zero activations, a sparse matrix (scipy or torch); factors `[N, F]` coded as integers."""

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.preprocessing import LabelEncoder

Latents = np.ndarray | sparse.csc_array
"""What the metrics work on: dense float64, or sparse CSC float64 (zeros implicit)."""

DENSE_CHUNK = 1 << 22
"""Entries of a dense latent matrix visited at a time (bounds memory)."""


def _to_numpy_or_scipy(x):
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
        if x.is_sparse:
            x = x.coalesce()
            indices = x.indices().numpy()
            return sparse.coo_array((x.values().numpy(), (indices[0], indices[1])), x.shape)
        return x.numpy()
    return x


def as_arrays(latents, factors) -> tuple[Latents, np.ndarray]:
    """Validate and convert: latents to float64 (sparse stays sparse, as CSC), factors to
    integer codes 0..K-1 per column."""
    latents = _to_numpy_or_scipy(latents)
    if sparse.issparse(latents):
        latents = sparse.csc_array(latents, dtype=np.float64)
        if latents.nnz < np.iinfo(np.int32).max:  # what sklearn's sparse solvers accept
            latents.indices = latents.indices.astype(np.int32)
            latents.indptr = latents.indptr.astype(np.int32)
        finite = np.isfinite(latents.data).all()
    else:
        latents = np.asarray(latents, dtype=np.float64)
        finite = np.isfinite(latents).all()
    factors = np.asarray(_to_numpy_or_scipy(factors))
    if latents.ndim != 2 or factors.ndim != 2:
        raise ValueError(
            f"expected latents [N, L] and factors [N, F], got {latents.shape} and {factors.shape}"
        )
    if latents.shape[0] != factors.shape[0]:
        raise ValueError(
            f"latents have {latents.shape[0]} samples but factors have "
            f"{factors.shape[0]}: pass the same samples to both"
        )
    if latents.shape[0] < 2:
        raise ValueError("need at least 2 samples")
    if not finite:
        raise ValueError("latents contain NaN or inf: drop those samples first")
    if factors.dtype.kind == "f" and not np.isfinite(factors).all():
        raise ValueError("factors contain NaN or inf: drop those samples first")
    constant = [i for i in range(factors.shape[1]) if np.unique(factors[:, i]).size < 2]
    if constant:
        raise ValueError(
            f"factors {constant} are constant: their information is undefined; drop them"
        )
    coded = np.stack(
        [LabelEncoder().fit_transform(factors[:, i]) for i in range(factors.shape[1])], axis=1
    )
    return latents, coded


def dense(z: Latents) -> np.ndarray:
    return z.toarray() if sparse.issparse(z) else z


def column_ranges(z: Latents) -> tuple[np.ndarray, np.ndarray]:
    """Per-latent minimum and maximum (implicit zeros of a sparse matrix included)."""
    if not sparse.issparse(z):
        return z.min(0), z.max(0)
    nnz = np.diff(z.indptr)
    has_zero = nnz < z.shape[0]
    lo, hi = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    some = nnz > 0
    starts = z.indptr[:-1][some]
    lo[some] = np.minimum.reduceat(z.data, starts)
    hi[some] = np.maximum.reduceat(z.data, starts)
    lo[some & has_zero] = np.minimum(lo[some & has_zero], 0)
    hi[some & has_zero] = np.maximum(hi[some & has_zero], 0)
    return lo, hi


class Split(NamedTuple):
    z_train: Latents
    v_train: np.ndarray
    z_test: Latents
    v_test: np.ndarray


def train_test(z: Latents, v: np.ndarray, train_fraction: float, seed: int) -> Split:
    """A seeded random split (samples often arrive ordered by factor, so a plain cut would
    leave factor values out of one side)."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    order = np.random.default_rng(seed).permutation(z.shape[0])
    n_train = int(z.shape[0] * train_fraction)
    train, test = order[:n_train], order[n_train:]
    return Split(z[train], v[train], z[test], v[test])


def stored_entries(z: Latents):
    """(row, latent, value) of every entry, in chunks of at most DENSE_CHUNK for a dense
    matrix; for a sparse one, the stored entries only (implicit zeros are left to the caller)."""
    if sparse.issparse(z):
        cols = np.repeat(np.arange(z.shape[1]), np.diff(z.indptr))
        yield z.indices.astype(np.int64), cols, z.data
        return
    step = max(1, DENSE_CHUNK // z.shape[0])
    rows = np.arange(z.shape[0])
    for start in range(0, z.shape[1], step):
        block = z[:, start : start + step]
        cols = np.arange(start, start + block.shape[1])
        yield np.repeat(rows, len(cols)), np.tile(cols, len(rows)), block.ravel()
