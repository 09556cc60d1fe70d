"""Scores that need a data generator whose factors can be held fixed: BetaVAE (Higgins et al.
2017) and FactorVAE (Kim & Mnih 2018), following disentanglement_lib's implementations and
defaults (batch 64, 10,000 training and 5,000 evaluation points, 10,000 samples for the global
variances)."""

from collections.abc import Callable
from typing import NamedTuple, Protocol

import numpy as np
from sklearn.linear_model import LogisticRegression

Represent = Callable[[np.ndarray], np.ndarray]
"""Observations `[n, ...]` -> representations `[n, L]` (for a VAE: the posterior means)."""

POINTS_PER_CALL = 16
"""Training points whose observations go through `represent` together."""


class FactorSampler(Protocol):
    """A generator with independent, individually fixable factors (e.g. `DSprites`)."""

    @property
    def factor_sizes(self) -> tuple[int, ...]: ...

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def render(self, factors: np.ndarray) -> np.ndarray: ...


class InterventionalScore(NamedTuple):
    train_accuracy: float
    eval_accuracy: float
    """The score (held-out accuracy of the factor classifier)."""


def _points(data: FactorSampler, represent: Represent, n: int, batch: int, rng, make_point):
    """`n` (factor index, feature) points, observations represented POINTS_PER_CALL at a time."""
    labels, features = [], []
    for start in range(0, n, POINTS_PER_CALL):
        count = min(POINTS_PER_CALL, n - start)
        chosen = rng.integers(0, len(data.factor_sizes), count)
        factor_sets = [make_point(data, int(k), batch, rng) for k in chosen]
        stacked = np.concatenate(factor_sets)
        reps = np.asarray(represent(data.render(stacked)), dtype=np.float64)
        per_point = len(stacked) // count
        for i, k in enumerate(chosen):
            labels.append(k)
            features.append(reps[i * per_point : (i + 1) * per_point])
    return np.array(labels), features


def _pair_sharing_factor(data: FactorSampler, factor: int, batch: int, rng) -> np.ndarray:
    first = data.sample_factors(batch, rng)
    second = data.sample_factors(batch, rng)
    second[:, factor] = first[:, factor]
    return np.concatenate([first, second])


def betavae_score(
    data: FactorSampler,
    represent: Represent,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
) -> InterventionalScore:
    """Each point: pick a factor, draw `batch_size` pairs of observations that share its value;
    the feature is the mean absolute difference of their representations. A logistic regression
    predicts the factor from the feature; the score is its held-out accuracy."""
    rng = np.random.default_rng(seed)

    def sample(n):
        labels, reps = _points(data, represent, n, batch_size, rng, _pair_sharing_factor)
        diffs = [np.abs(r[:batch_size] - r[batch_size:]).mean(0) for r in reps]
        return np.stack(diffs), labels

    x_train, y_train = sample(num_train)
    x_eval, y_eval = sample(num_eval)
    model = LogisticRegression(max_iter=1000, random_state=seed).fit(x_train, y_train)
    return InterventionalScore(model.score(x_train, y_train), model.score(x_eval, y_eval))


def _batch_fixing_factor(data: FactorSampler, factor: int, batch: int, rng) -> np.ndarray:
    factors = data.sample_factors(batch, rng)
    factors[:, factor] = factors[0, factor]
    return factors


def factorvae_score(
    data: FactorSampler,
    represent: Represent,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.0,
) -> InterventionalScore:
    """Each point: fix one factor over a batch, normalise the representations by their global
    standard deviation and vote for the latent with the least variance. The classifier maps
    each latent to the factor it got most votes for; the score is its held-out accuracy.
    Latents whose global standard deviation is below `prune_threshold` are left out (0 keeps
    all, as disentanglement_lib does); none left scores 0."""
    rng = np.random.default_rng(seed)
    reps = np.asarray(
        represent(data.render(data.sample_factors(num_variance_estimate, rng))), dtype=np.float64
    )
    global_var = reps.var(0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    active &= global_var > 0
    if not active.any():
        return InterventionalScore(0.0, 0.0)
    n_factors = len(data.factor_sizes)

    def votes(n):
        labels, batches = _points(data, represent, n, batch_size, rng, _batch_fixing_factor)
        table = np.zeros((reps.shape[1], n_factors), dtype=np.int64)
        for k, r in zip(labels, batches, strict=True):
            local = r.var(0, ddof=1)[active] / global_var[active]
            table[np.flatnonzero(active)[local.argmin()], k] += 1
        return table

    train = votes(num_train)
    classifier = train.argmax(1)
    evaluation = votes(num_eval)
    latents = np.arange(len(classifier))
    return InterventionalScore(
        float(train.max(1).sum() / train.sum()),
        float(evaluation[latents, classifier].sum() / evaluation.sum()),
    )
