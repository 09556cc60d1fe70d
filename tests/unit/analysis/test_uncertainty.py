"""Intervals, seed spreads, Miller–Madow correction and the uninformative-latent threshold,
each on a case with a known answer."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from saekit.analysis.disentanglement import (
    Estimate,
    MetricOptions,
    Uncertainty,
    estimate_over_seeds,
    estimate_scores,
    infomec,
    metric_table,
    mig,
)
from saekit.analysis.disentanglement.binned import binned_mi, discrete_mi
from saekit.analysis.disentanglement.table import infomec_variants, table_json, table_text

warnings.filterwarnings("ignore", category=FutureWarning)
K, KEEP = 4, 0.6
"""The known code: latent i copies factor i with probability KEEP, else a uniform value."""


def _true_mig() -> float:
    """Each factor's best latent is a K-ary symmetric channel; every other latent is independent."""
    same, other = KEEP + (1 - KEEP) / K, (1 - KEEP) / K
    conditional = -same * np.log(same) - (K - 1) * other * np.log(other)
    return (np.log(K) - conditional) / np.log(K)


def _channel_code(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    factors = rng.integers(0, K, (n, 2))
    noisy = np.where(rng.random((n, 2)) < KEEP, factors, rng.integers(0, K, (n, 2)))
    return np.c_[noisy, rng.integers(0, K, n)].astype(float), factors


def _mig_scorer(z, v, seed):
    return {"mig": mig(z, v)}


def test_interval_covers_the_known_mig_and_shrinks_with_n():
    small = estimate_scores(_mig_scorer, *_channel_code(1000, 0), Uncertainty(), False)["mig"]
    large = estimate_scores(_mig_scorer, *_channel_code(16000, 0), Uncertainty(), False)["mig"]
    truth = _true_mig()
    assert small.low <= truth <= small.high and large.low <= truth <= large.high
    # a sqrt(N) estimator: 16x the samples, a quarter of the width
    assert large.half_width < 0.5 * small.half_width
    assert small.seed_std is None  # MIG's binned estimator has no randomness of its own


def test_intervals_reach_their_nominal_coverage():
    truth, trials = _true_mig(), 30
    covered = 0
    for trial in range(trials):
        e = estimate_scores(_mig_scorer, *_channel_code(600, 100 + trial), Uncertainty(), False)
        covered += e["mig"].low <= truth <= e["mig"].high
    assert covered >= 25  # nominal 95 %: 28.5 expected, below 25 has probability < 1 %


def _with_uninformative_latents() -> tuple[np.ndarray, np.ndarray]:
    """Three factors coded perfectly, plus two latents that fire rarely and independently of
    them (the case where InfoM swings with the kNN estimator's seed)."""
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 5, (2000, 3))
    perfect = factors + 0.05 * rng.standard_normal((2000, 3))
    rare = 4 * rng.standard_normal((2000, 2)) * (rng.random((2000, 2)) < 0.02)
    return np.c_[perfect, rare], factors


def test_interval_covers_the_seed_spread_of_knn_infom():
    latents, factors = _with_uninformative_latents()
    by_seed = [infomec(latents, factors, seed=s).infom for s in range(4)]
    assert max(by_seed) - min(by_seed) > 0.1  # the problem: the estimator's seed moves InfoM

    def scorer(z, v, seed):
        return {"infom": infomec(z, v, seed=seed).infom}

    e = estimate_scores(scorer, latents, factors, Uncertainty(resamples=12, seeds=4), True)
    assert e["infom"].value == by_seed[0]
    assert all(e["infom"].low <= x <= e["infom"].high for x in by_seed)
    assert e["infom"].seed_std == pytest.approx(np.std(by_seed, ddof=1))


def test_leaving_uninformative_latents_out_makes_infom_stable():
    latents, factors = _with_uninformative_latents()
    kept = [infomec(latents, factors, seed=s, min_latent_nmi=0.02) for s in range(4)]
    assert all(info.infom > 0.98 for info in kept)
    assert (kept[0].informative == [True, True, True, False, False]).all()
    assert kept[0].active.all() and kept[0].nmi.shape == (3, 5)  # the matrix keeps them
    with pytest.raises(ValueError, match="lower the threshold"):
        infomec(latents, factors, min_latent_nmi=5.0)


def test_miller_madow_moves_an_independent_mi_toward_zero():
    rng = np.random.default_rng(3)
    z, v = rng.random((500, 4)), rng.integers(0, 5, (500, 2))
    plugin = binned_mi(z, v)
    corrected = binned_mi(z, v, correction="miller-madow")
    # plug-in bias is about (bins - 1)(values - 1) / 2N = 0.076 nats
    assert plugin.mean() == pytest.approx(19 * 4 / 1000, rel=0.3)
    assert corrected.mean() < plugin.mean() / 4
    # a strong dependence moves by a small term only
    strong = np.c_[v[:, 0] + 0.1 * rng.random(500)]
    shift = binned_mi(strong, v[:, :1]) - binned_mi(strong, v[:, :1], correction="miller-madow")
    assert abs(shift[0, 0]) < 0.01 * binned_mi(strong, v[:, :1])[0, 0]
    with pytest.raises(ValueError, match="miller-madow"):
        binned_mi(z, v, correction="jackknife")


def test_discrete_mi_matches_sklearn_and_is_corrected_too():
    rng = np.random.default_rng(4)
    values, v = rng.integers(0, 7, (300, 3)), rng.integers(0, 3, (300, 2))
    codes = values * 2.5  # any values: only which samples share one matters
    expected = [[mutual_info_score(f, c) for f in v.T] for c in values.T]
    assert discrete_mi(codes, v) == pytest.approx(np.array(expected), abs=1e-12)
    assert discrete_mi(codes, v, "miller-madow").mean() < 0.25 * discrete_mi(codes, v).mean()


def test_scores_that_draw_their_own_samples_get_an_interval_over_seeds():
    def run(seed):  # a score whose sampling noise is known: the mean of 100 uniforms
        return float(np.random.default_rng(seed).random(100).mean())

    e = estimate_over_seeds(run, Uncertainty(resamples=40, seed=7))
    assert e.value == run(7)
    assert e.half_width == pytest.approx(1.96 * np.sqrt(1 / 12 / 100), rel=0.3)
    assert estimate_over_seeds(run, Uncertainty(resamples=0)) == Estimate.exact(run(0))


def test_metric_table_reports_values_intervals_and_seed_spreads():
    latents, factors = _channel_code(800, 1)
    options = MetricOptions(fast=True)
    table = metric_table(latents, factors, ("mig", "dci"), options, Uncertainty(resamples=4))
    plain = metric_table(latents, factors, ("mig", "dci"), options)
    for name in ("mig", "dci"):
        for score, e in table[name].scores.items():
            assert e.value == plain[name].scores[score].value  # intervals never move the value
            assert e.low <= e.value <= e.high
    assert table["mig"].scores["mig"].seed_std is None  # deterministic estimator
    assert table["dci"].scores["dci_i"].seed_std is not None  # random held-out split
    assert plain["mig"].scores["mig"] == Estimate.exact(mig(latents, factors))
    assert table_json(table)["mig"]["scores"]["mig"]["low"] == table["mig"].scores["mig"].low
    assert "mig           0." in table_text(table, 0.95) and " [0." in table_text(table, 0.95)


def test_infomec_variants_name_their_columns():
    latents, factors = _with_uninformative_latents()
    variants = infomec_variants(latents, factors, MetricOptions(fast=True))
    assert set(variants) == {
        f"{k}_{v}" for k in ("infom", "infoc") for v in ("mm", "informative", "mm_informative")
    }
    assert variants["infom_informative"] > 0.98  # the binned estimator's 0.61 with them


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Uncertainty(resamples=1), "resamples"),
        (lambda: Uncertainty(confidence=1.0), "confidence"),
        (lambda: MetricOptions(mi_correction="jackknife"), "miller-madow"),
        (lambda: MetricOptions(min_latent_nmi=-1), "min_latent_nmi"),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_the_interval_spans_the_value_and_its_bias_corrected_version():
    from saekit.analysis.disentanglement.uncertainty import interval

    # half-samples average 0.5 above the value: bias 0.5, corrected value -0.5
    low, high, bias = interval(1.0, [1.4, 1.6, 1.5, 1.5], z=2.0)
    spread = 2.0 * np.std([1.4, 1.6, 1.5, 1.5], ddof=1)
    assert bias == pytest.approx(0.5)
    assert (low, high) == pytest.approx((0.5 - spread, 1.0 + spread))
    e = Estimate(1.0, low, high, None, bias)
    assert e.corrected == pytest.approx(0.5) and e.bias_matters
    assert "bias +0.500: corrected 0.500" in str(e)
    assert not Estimate(1.0, 0.8, 1.2, None, 0.01).bias_matters


def test_the_plug_in_bias_of_an_independent_pair_is_estimated_and_covered():
    """Binned MI of independent variables: the truth is 0, the plug-in value about
    (bins - 1)(values - 1) / 2N; the resampling spread alone misses 0, the interval does not."""

    def scorer(z, v, seed):
        return {"mi": float(binned_mi(z, v).mean())}

    misses_without_bias = 0
    for trial in range(10):
        rng = np.random.default_rng(50 + trial)
        z, v = rng.random((1000, 3)), rng.integers(0, 5, (1000, 2))
        e = estimate_scores(scorer, z, v, Uncertainty(), False)["mi"]
        assert e.low <= 0.0 <= e.high
        assert e.bias == pytest.approx(e.value, rel=0.5) and e.bias_matters
        spread = (e.high - e.low - abs(e.bias)) / 2
        misses_without_bias += e.value - spread > 0
    assert misses_without_bias == 10
