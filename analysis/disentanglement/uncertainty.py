"""How sure a disentanglement score is: an interval over resamples of the data and, for
estimators with their own randomness (kNN tie-breaking noise, held-out splits, sampled points),
the spread over their seeds.

Resampling uses half-samples drawn without replacement (the delete-n/2 jackknife): for a smooth
statistic their spread around their own mean has the bootstrap's variance, sigma^2 / N, and unlike
the bootstrap they never repeat a sample — repeated samples sit at distance 0 from each other and
inflate kNN mutual information without bound. Each half-sample also runs the estimator with its
own seed, so the interval covers the estimator's noise too.

Plug-in information estimates (MIG, binned InfoM/InfoC, modularity) are biased, and at a few
thousand samples the bias can exceed the spread: an interval of the spread alone then misses the
value the estimator converges to. Their bias shrinks as 1/N, so a half-sample carries twice the
full sample's: bias ≈ mean(half-sample scores) - value, and value - bias is the bias-corrected
score (Quenouille's jackknife correction with half-samples). The interval spans the reported
value and the corrected one, widened by z * s on each side (s: the standard deviation of the
half-sample scores, z: the normal quantile of the confidence); `Estimate.bias_matters` says when
the bias is of the order of the interval."""

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import sparse

from saekit.analysis.disentanglement.inputs import Latents, as_arrays
from saekit.analysis.disentanglement.settings import Uncertainty

Scores = dict[str, float]
Scorer = Callable[[Latents, np.ndarray, int], Scores]
"""(latents, integer factors, seed) -> named scores."""


class Estimate(NamedTuple):
    value: float
    """The score on all samples, estimator seed `Uncertainty.seed`."""
    low: float
    high: float
    seed_std: float | None = None
    """Standard deviation over estimator seeds on all samples (None: a deterministic estimator
    or not measured)."""
    bias: float = 0.0
    """The half-sample estimate of the value's bias (the value minus what the estimator
    converges to; 0 when not estimated)."""

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def corrected(self) -> float:
        """The bias-corrected score."""
        return self.value - self.bias

    @property
    def bias_matters(self) -> bool:
        """The bias is at least a third of the interval's width: the value alone misleads."""
        return abs(self.bias) >= (self.high - self.low) / 3 > 0

    def __str__(self) -> str:
        text = f"{self.value:.3f}"
        if self.high > self.low:
            text += f" [{self.low:.3f}, {self.high:.3f}]"
        if self.bias_matters:
            text += f" (bias {self.bias:+.3f}: corrected {self.corrected:.3f})"
        return text if self.seed_std is None else f"{text} (seed std {self.seed_std:.3f})"

    @classmethod
    def exact(cls, value: float) -> "Estimate":
        return cls(value, value, value)


def half_samples(n: int, resamples: int, seed: int) -> list[np.ndarray]:
    """`resamples` sorted index sets of n // 2 distinct samples each."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.permutation(n)[: n // 2]) for _ in range(resamples)]


def _rows(z: Latents, rows: np.ndarray) -> Latents:
    return sparse.csc_array(sparse.csr_array(z)[rows]) if sparse.issparse(z) else z[rows]


class Interval(NamedTuple):
    low: float
    high: float
    bias: float


def interval(value: float, replicates: Sequence[float], z: float) -> Interval:
    """From the scores of half-samples: the value and its bias-corrected version, each widened
    by z standard deviations of the half-sample scores."""
    spread = _half_width(replicates, z)
    bias = float(np.mean(replicates)) - value
    corrected = value - bias
    return Interval(min(value, corrected) - spread, max(value, corrected) + spread, bias)


def _half_width(replicates: Sequence[float], z: float) -> float:
    return z * float(np.std(replicates, ddof=1))


def estimate_scores(
    scorer: Scorer, latents, factors, cfg: Uncertainty, randomised: bool
) -> dict[str, Estimate]:
    """Every score of `scorer` with its interval over half-samples and, when `randomised`, its
    spread over `cfg.seeds` estimator seeds."""
    z, v = as_arrays(latents, factors)
    value = scorer(z, v, cfg.seed)
    replicates = [
        scorer(_rows(z, rows), v[rows], cfg.seed + 1 + i)
        for i, rows in enumerate(half_samples(z.shape[0], cfg.resamples, cfg.seed))
    ]
    by_seed = [scorer(z, v, cfg.seed + s) for s in range(1, cfg.seeds)] if randomised else []
    out = {}
    for name, x in value.items():
        bounds = interval(x, [r[name] for r in replicates], cfg.z) if replicates else (x, x, 0.0)
        spread = float(np.std([x] + [s[name] for s in by_seed], ddof=1)) if by_seed else None
        out[name] = Estimate(x, bounds[0], bounds[1], spread, bounds[2])
    return out


def estimate_over_seeds(run: Callable[[int], float], cfg: Uncertainty) -> Estimate:
    """For a score that draws its own samples (BetaVAE, FactorVAE): rerunning it with other
    seeds redraws its data at the same size, so the interval is the spread over `cfg.resamples`
    further seeds (no bias estimate)."""
    value = run(cfg.seed)
    if cfg.resamples == 0:
        return Estimate.exact(value)
    others = [run(cfg.seed + 1 + i) for i in range(cfg.resamples)]
    spread = float(np.std([value, *others], ddof=1))
    half = _half_width([value, *others], cfg.z)
    return Estimate(value, value - half, value + half, spread)
