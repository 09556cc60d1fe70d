"""BetaVAE and FactorVAE scores on representations with known answers."""

import numpy as np
import pytest

from saekit.analysis.disentanglement.interventional import betavae_score, factorvae_score
from saekit.analysis.factor_data.dsprites import DSprites

SIZES = dict(num_train=300, num_eval=200, num_variance_estimate=2000)


class FactorsAsObservations:
    """Observations are the factors themselves, so a representation can be any function of them."""

    factor_sizes = (4, 5, 6)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], axis=1)

    def render(self, factors):
        return factors.astype(np.float64)


DATA = FactorsAsObservations()


def noisy(z):
    return z + 0.01 * np.random.default_rng(len(z)).standard_normal(z.shape)


def test_a_perfect_representation_scores_one():
    assert betavae_score(DATA, noisy, **{k: SIZES[k] for k in ("num_train", "num_eval")}) == (
        pytest.approx(1.0),
        pytest.approx(1.0),
    )
    assert factorvae_score(DATA, noisy, **SIZES).eval_accuracy == pytest.approx(1.0)


def test_permuted_and_scaled_latents_score_the_same():
    def permuted(z):
        return noisy(z)[:, [2, 0, 1]] * np.array([5.0, 0.1, 2.0])

    assert factorvae_score(DATA, permuted, **SIZES).eval_accuracy == pytest.approx(1.0)


def test_an_uninformative_representation_scores_chance():
    def noise(z):
        return np.random.default_rng(int(z.sum())).standard_normal((len(z), 3))

    beta = betavae_score(DATA, noise, num_train=300, num_eval=300)
    assert beta.eval_accuracy < 0.5  # chance is 1/3
    assert factorvae_score(DATA, noise, **SIZES).eval_accuracy < 0.6


def test_mixing_two_factors_lowers_factorvae():
    mix = np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])

    def mixed(z):  # latents 0 and 1 each carry factors 0 and 1 equally
        standard = (z - z.mean(0)) / np.array([np.sqrt((s * s - 1) / 12) for s in (4, 5, 6)])
        return noisy(standard @ mix)

    assert factorvae_score(DATA, mixed, **SIZES).eval_accuracy < 0.85


def test_collapsed_representation_scores_zero():
    assert factorvae_score(DATA, lambda z: np.zeros((len(z), 3)), **SIZES) == (0.0, 0.0)


def test_on_dsprites_with_ground_truth_factor_readout():
    data = DSprites(orientations=4, positions=8)

    def readout(images):  # area, centroid x, centroid y: scale/shape, x, y are recoverable
        ys, xs = np.mgrid[: images.shape[1], : images.shape[2]]
        area = images.sum((1, 2))
        return np.stack(
            [area, (images * xs).sum((1, 2)) / area, (images * ys).sum((1, 2)) / area], 1
        )

    score = factorvae_score(data, readout, num_train=200, num_eval=200, num_variance_estimate=1000)
    assert 0.4 < score.eval_accuracy < 1.0  # x and y found, orientation never
