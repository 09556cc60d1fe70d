"""Disentanglement metrics on hand-built codes with known answers, their invariances, and an
independent straightforward MIG."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from saekit.analysis.disentanglement import dci, infomec, mig, modularity_explicitness, sap

warnings.filterwarnings("ignore", category=FutureWarning)
RNG = np.random.default_rng(0)
FACTORS = RNG.integers(0, 5, size=(2000, 3))
PERFECT = FACTORS + 0.05 * RNG.standard_normal((2000, 3))
ROTATION = np.linalg.qr(RNG.standard_normal((3, 3)))[0]
ROTATED = PERFECT @ ROTATION
DUPLICATED = np.c_[PERFECT[:, :1], PERFECT[:, :1], PERFECT[:, 2:]]  # factor 1 missing


def test_perfect_code_scores_top_marks():
    assert mig(PERFECT, FACTORS) > 0.95
    d, c, i, _ = dci(PERFECT, FACTORS, estimator="lasso")
    assert d > 0.95 and c > 0.95 and i > 0.95
    info = infomec(PERFECT, FACTORS)
    assert info.infom > 0.95 and info.infoc > 0.95 and info.infoe > 0.95
    assert modularity_explicitness(PERFECT, FACTORS) > (0.95, 0.95)


def test_rotation_destroys_disentanglement_not_information():
    assert mig(ROTATED, FACTORS) < 0.5 * mig(PERFECT, FACTORS)
    assert sap(ROTATED, FACTORS) < sap(PERFECT, FACTORS)
    d, c, i, _ = dci(ROTATED, FACTORS, estimator="lasso")
    assert d < 0.5 and c < 0.5 and i > 0.9  # still fully informative
    info = infomec(ROTATED, FACTORS)
    assert info.infom < 0.5 and info.infoe > 0.9
    assert modularity_explicitness(ROTATED, FACTORS).modularity < 0.8


def test_duplicated_and_missing_factors():
    # factor 0 is coded twice (no gap), factor 1 not at all, factor 2 perfectly: MIG ~ 1/3
    assert mig(DUPLICATED, FACTORS) == pytest.approx(1 / 3, abs=0.05)
    info = infomec(DUPLICATED, FACTORS)
    assert info.infom > 0.95 and info.infoc < 0.8 and info.infoe < 0.8
    assert dci(DUPLICATED, FACTORS, estimator="lasso").completeness < 0.8


def test_latent_permutation_and_scaling_invariance():
    perm = [2, 0, 1]
    scaled = PERFECT[:, perm] * np.array([3.0, 0.2, 7.0]) + 5
    assert mig(scaled, FACTORS) == pytest.approx(mig(PERFECT, FACTORS), abs=1e-9)
    assert modularity_explicitness(scaled, FACTORS).modularity == pytest.approx(
        modularity_explicitness(PERFECT, FACTORS).modularity, abs=1e-9
    )
    assert infomec(scaled, FACTORS).infom == pytest.approx(
        infomec(PERFECT, FACTORS).infom, abs=0.02
    )
    assert sap(ROTATED[:, perm], FACTORS) == pytest.approx(sap(ROTATED, FACTORS), abs=1e-9)


def straightforward_mig(latents, factors, bins=20):
    """Loops over pairs, np.histogram bins, sklearn's plug-in MI."""
    gaps = []
    for i in range(factors.shape[1]):
        mis = []
        for j in range(latents.shape[1]):
            edges = np.histogram(latents[:, j], bins=bins)[1]
            codes = np.digitize(latents[:, j], edges[1:-1])
            mis.append(mutual_info_score(factors[:, i], codes))
        mis.sort(reverse=True)
        gaps.append((mis[0] - mis[1]) / mutual_info_score(factors[:, i], factors[:, i]))
    return float(np.mean(gaps))


def test_mig_agrees_with_a_straightforward_implementation_on_random_data():
    latents = RNG.standard_normal((1500, 6)) + RNG.integers(0, 3, (1500, 1))
    factors = np.c_[RNG.integers(0, 3, 1500), RNG.integers(0, 4, 1500)]
    assert mig(latents, factors) == pytest.approx(straightforward_mig(latents, factors), abs=1e-12)


def test_gbt_dci_matches_the_fast_estimator_on_a_perfect_code():
    d, c, _, importance = dci(PERFECT[:600], FACTORS[:600], estimator="gbt")
    assert d > 0.9 and c > 0.9 and importance.shape == (3, 3)


@pytest.mark.parametrize(
    "latents, factors, message",
    [
        (PERFECT[:10], FACTORS[:9], "10 samples but factors have 9"),
        (PERFECT[:1], FACTORS[:1], "at least 2 samples"),
        (np.where(np.arange(2000)[:, None] == 3, np.nan, PERFECT), FACTORS, "NaN"),
        (PERFECT, np.c_[FACTORS, np.zeros(2000)], r"factors \[3\] are constant"),
    ],
)
def test_bad_input(latents, factors, message):
    with pytest.raises(ValueError, match=message):
        mig(latents, factors)


def test_disentangle_cli_writes_a_table(tmp_path, capsys):
    import json

    from saekit.cli import main

    np.save(tmp_path / "z.npy", PERFECT[:500])
    np.save(tmp_path / "f.npy", FACTORS[:500])
    assert (
        main(
            [
                "disentangle",
                "--latents",
                str(tmp_path / "z.npy"),
                "--factors",
                str(tmp_path / "f.npy"),
                "--dci-estimator",
                "lasso",
                "--resamples",
                "4",
                "--out",
                str(tmp_path / "t.json"),
            ]
        )
        == 0
    )
    table = json.loads((tmp_path / "t.json").read_text())
    assert set(table) == {"mig", "sap", "dci", "modularity", "infomec"}
    mig_score, infom = table["mig"]["scores"]["mig"], table["infomec"]["scores"]["infom"]
    assert mig_score["value"] > 0.9 and infom["value"] > 0.9
    assert mig_score["low"] < mig_score["value"] < mig_score["high"]
    assert mig_score["seed_std"] is None and table["sap"]["scores"]["sap"]["seed_std"] >= 0
    assert all(row["seconds"] >= 0 for row in table.values())
    printed = capsys.readouterr().out
    assert f"mig           {mig_score['value']:.3f} [" in printed
