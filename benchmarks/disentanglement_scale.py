"""Disentanglement metrics at dictionary scale: the published estimators against saekit's fast
ones on sparse SAE-like latents (default 100k samples x 16k latents, 32 active per row).

    python benchmarks/disentanglement_scale.py [--samples 100000] [--latents 16384]

The published estimators loop over latents (kNN MI per latent, one SVM per latent and factor,
boosted trees over every latent, dense histogram MI per pair), which is hours at full width; they
are timed on a subset of latents (and, for boosted trees, of samples) and extrapolated linearly
to the full size — the `extrapolated` column says so. The fast estimators run on the full sparse
matrix. The published InfoMEC time counts only its kNN MI (InfoE is the same regression in
both), so its speed-up is a lower bound. Memory is the peak of allocations tracemalloc sees
during the call (numpy, scipy and sklearn arrays); the dense matrix the published MIG needs is
reported from its size.
"""

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
from scipy import sparse
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.feature_selection import mutual_info_classif
from sklearn.metrics import mutual_info_score

from saekit.analysis.disentanglement import dci, infomec, mig, sap
from saekit.analysis.disentanglement.sap import svm_accuracy

FACTORS, VALUES, ACTIVE = 5, 10, 32


def sae_like(n: int, n_latents: int, seed: int = 0) -> tuple[sparse.csr_array, np.ndarray]:
    """Each row: one latent per factor tied to that factor's value (latent f * VALUES + value),
    the rest of its ACTIVE latents drawn at random; magnitudes positive."""
    rng = np.random.default_rng(seed)
    factors = rng.integers(0, VALUES, (n, FACTORS))
    tied = factors + np.arange(FACTORS) * VALUES
    free = rng.integers(FACTORS * VALUES, n_latents, (n, ACTIVE - FACTORS))
    cols = np.concatenate([tied, free], 1).ravel()
    rows = np.repeat(np.arange(n), ACTIVE)
    values = rng.exponential(1.0, n * ACTIVE) + 0.1
    z = sparse.csr_array((values, (rows, cols)), shape=(n, n_latents))
    z.sum_duplicates()
    return z, factors


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """Seconds and peak traced MB of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def published_mig(z: np.ndarray, factors: np.ndarray) -> None:
    for column in z.T:
        codes = np.digitize(column, np.histogram_bin_edges(column, 20)[1:-1])
        for f in factors.T:
            mutual_info_score(f, codes)


def published_knn(z: np.ndarray, factors: np.ndarray) -> None:
    for f in factors.T:
        mutual_info_classif(z, f, discrete_features=False, n_neighbors=10, random_state=0)


def published_gbt(z: np.ndarray, factors: np.ndarray) -> None:
    for f in factors.T:
        GradientBoostingClassifier(random_state=0).fit(z, f)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=100_000)
    p.add_argument("--latents", type=int, default=16_384)
    p.add_argument("--subset", type=int, default=256, help="latents the slow estimators see")
    p.add_argument("--gbt-samples", type=int, default=5_000)
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    z, factors = sae_like(args.samples, args.latents)
    print(f"{args.samples} x {args.latents} sparse latents, nnz {z.nnz}, {FACTORS} factors")
    # the subset keeps the factor-tied latents, so the slow estimators see real signal
    subset = z[:, : args.subset].toarray()
    small = max(8, args.subset // 16)
    width = args.latents / args.subset
    rows = [
        (
            "MIG",
            "dense histograms",
            lambda: published_mig(subset, factors),
            width,
            "sparse binned",
            lambda: mig(z, factors),
        ),
        (
            "InfoMEC",
            "kNN MI (k=10)",
            lambda: published_knn(subset[:, :small], factors),
            args.latents / small,
            "binned MI",
            lambda: infomec(z, factors, mi_estimator="binned"),
        ),
        (
            "SAP",
            "per-latent SVM",
            lambda: svm_accuracy(subset[:, :small], factors, 0.8),
            args.latents / small,
            "correlation ratio",
            lambda: sap(z, factors, estimator="correlation_ratio"),
        ),
        (
            "DCI",
            "boosted trees",
            lambda: published_gbt(subset[: args.gbt_samples, :small], factors[: args.gbt_samples]),
            args.latents / small * args.samples / args.gbt_samples,
            "L1 logistic",
            lambda: dci(z, factors, estimator="lasso"),
        ),
    ]
    print(
        f"\n{'metric':8s} {'published':18s} {'s (extrapolated)':>17s} {'fast':18s} "
        f"{'s':>8s} {'peak MB':>8s} {'speed-up':>9s}"
    )
    for metric, slow_name, slow, scale, fast_name, fast in rows:
        slow_seconds = measure(slow)[0] * scale
        fast_seconds, fast_peak = measure(fast)
        print(
            f"{metric:8s} {slow_name:18s} {slow_seconds:17.0f} {fast_name:18s} "
            f"{fast_seconds:8.1f} {fast_peak:8.0f} {slow_seconds / fast_seconds:8.0f}x"
        )
    dense_gb = args.samples * args.latents * 8 / 2**30
    print(f"\nthe published MIG also needs the dense matrix: {dense_gb:.1f} GB as float64")


if __name__ == "__main__":
    main()
