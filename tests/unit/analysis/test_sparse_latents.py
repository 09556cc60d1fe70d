"""Dictionary-scale paths: sparse latents give the same answers as dense ones, the vectorised
estimators agree with straightforward loops, and the fast estimators behave like the published
ones on codes with known answers."""

import warnings

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.metrics import mutual_info_score

from saekit.analysis.disentanglement import infomec, mig, modularity_explicitness, sap
from saekit.analysis.disentanglement.binned import binned_mi
from saekit.analysis.disentanglement.inputs import as_arrays
from saekit.analysis.disentanglement.sap import correlation_ratio

warnings.filterwarnings("ignore", category=FutureWarning)
RNG = np.random.default_rng(3)
N = 3000
FACTORS = np.c_[RNG.integers(0, 3, N), RNG.integers(0, 5, N), RNG.integers(0, 4, N)]


def sparse_code() -> np.ndarray:
    """SAE-like: latents fire (ReLU) with magnitudes tied to factors, most entries zero; one
    latent never fires, one is negative-valued, the rest noise."""
    z = np.zeros((N, 12))
    for i in range(3):
        z[:, 2 * i] = np.maximum(FACTORS[:, i] - 1 + 0.1 * RNG.standard_normal(N), 0)
        z[:, 2 * i + 1] = np.maximum(RNG.standard_normal(N) - 1.5, 0)
    z[:, 6] = 0.0  # dead
    z[:, 7] = -np.maximum(FACTORS[:, 1] - 3 + 0.1 * RNG.standard_normal(N), 0)
    z[:, 8:] = np.maximum(RNG.standard_normal((N, 4)) - 2, 0)
    return z


DENSE = sparse_code()
SPARSE = sparse.csr_matrix(DENSE)
TORCH_SPARSE = torch.from_numpy(DENSE).to_sparse()


def reference_binned_mi(z, factors, bins=20):
    return np.array(
        [
            [
                mutual_info_score(f, np.digitize(c, np.histogram_bin_edges(c, bins)[1:-1]))
                for f in factors.T
            ]
            for c in z.T
        ]
    )


def test_binned_mi_matches_histogram_loops_dense_and_sparse():
    reference = reference_binned_mi(DENSE, FACTORS)
    for latents in (DENSE, SPARSE, TORCH_SPARSE):
        z, v = as_arrays(latents, FACTORS)
        assert np.abs(binned_mi(z, v) - reference).max() < 1e-12
    assert np.allclose(binned_mi(*as_arrays(SPARSE, FACTORS))[6], 0.0, atol=1e-12)


def test_metrics_give_the_same_answer_on_sparse_latents():
    for latents in (SPARSE, TORCH_SPARSE):
        assert mig(latents, FACTORS) == pytest.approx(mig(DENSE, FACTORS), abs=1e-12)
        assert modularity_explicitness(latents, FACTORS).modularity == pytest.approx(
            modularity_explicitness(DENSE, FACTORS).modularity, abs=1e-12
        )
        assert infomec(latents, FACTORS, mi_estimator="binned").infom == pytest.approx(
            infomec(DENSE, FACTORS, mi_estimator="binned").infom, abs=1e-12
        )
        fast = sap(latents, FACTORS, estimator="correlation_ratio")
        assert fast == pytest.approx(sap(DENSE, FACTORS, estimator="correlation_ratio"), abs=1e-9)
    assert sap(SPARSE, FACTORS) == pytest.approx(sap(DENSE, FACTORS), abs=1e-12)


def test_correlation_ratio_matches_group_means():
    z, v = as_arrays(SPARSE, FACTORS)
    fast = correlation_ratio(z, v)
    for j in (0, 2, 7, 9):
        column = DENSE[:, j]
        for i in range(3):
            groups = [column[FACTORS[:, i] == k] for k in np.unique(FACTORS[:, i])]
            between = sum(len(g) * (g.mean() - column.mean()) ** 2 for g in groups)
            assert fast[j, i] == pytest.approx(between / (len(column) * column.var()), abs=1e-9)
    assert fast[6].tolist() == [0.0, 0.0, 0.0]  # the dead latent explains nothing


def test_fast_estimators_rank_codes_like_the_published_ones():
    perfect = FACTORS + 0.05 * RNG.standard_normal(FACTORS.shape)
    rotated = perfect @ np.linalg.qr(RNG.standard_normal((3, 3)))[0]
    fast = {
        name: sap(z, FACTORS, estimator="correlation_ratio")
        for name, z in (("perfect", perfect), ("rotated", rotated))
    }
    assert fast["perfect"] > 0.9 and fast["rotated"] < 0.6 * fast["perfect"]
    binned = infomec(perfect, FACTORS, mi_estimator="binned")
    assert binned.infom > 0.9 and binned.infoc > 0.9
    assert infomec(rotated, FACTORS, mi_estimator="binned").infom < 0.6
    scaled = perfect[:, [2, 0, 1]] * np.array([4.0, 0.1, 9.0])
    assert sap(scaled, FACTORS, estimator="correlation_ratio") == pytest.approx(
        fast["perfect"], abs=1e-9
    )
    # InfoMEC prunes by range, so it is scale-free only while ranges stay within 20x
    mild = perfect[:, [2, 0, 1]] * np.array([2.0, 0.5, 3.0])
    assert infomec(mild, FACTORS, mi_estimator="binned").infom == pytest.approx(
        binned.infom, abs=1e-9
    )


def test_infomec_prunes_before_estimating_and_refuses_unknown_estimators():
    info = infomec(SPARSE, FACTORS, mi_estimator="binned")
    assert not info.active[6] and (info.nmi[:, ~info.active] == 0).all()
    with pytest.raises(ValueError, match="'knn' or 'binned'"):
        infomec(DENSE, FACTORS, mi_estimator="kde")
    with pytest.raises(ValueError, match="'svm' or 'correlation_ratio'"):
        sap(DENSE, FACTORS, estimator="tree")


def test_sparse_latents_with_nan_are_refused():
    bad = SPARSE.copy().astype(np.float64)
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mig(bad, FACTORS)


def test_disentangle_cli_reads_sparse_codes_with_fast_estimators(tmp_path):
    import json

    from saekit.cli import main

    sparse.save_npz(tmp_path / "codes.npz", sparse.csr_matrix(DENSE))
    np.save(tmp_path / "factors.npy", FACTORS)
    args = ["disentangle", "--latents", str(tmp_path / "codes.npz")]
    args += [
        "--factors",
        str(tmp_path / "factors.npy"),
        "--fast",
        "--resamples",
        "3",
        "--out",
        str(tmp_path / "t.json"),
    ]
    assert main(args) == 0
    table = json.loads((tmp_path / "t.json").read_text())
    value = table["mig"]["scores"]["mig"]["value"]
    assert value == pytest.approx(mig(DENSE, FACTORS), abs=1e-12)
    assert set(table["dci"]["scores"]) == {"dci_d", "dci_c", "dci_i"}


def test_toy_superposition_features_as_factors():
    from saekit.data.toy import toy_factors, toy_superposition

    toy = toy_superposition(n_features=16, d=8, n_samples=4000, p_active=0.2, seed=1)
    factors = toy_factors(toy)
    assert factors.shape == (4000, 16) and set(np.unique(factors)) == {0, 1, 2, 3, 4}
    assert ((factors > 0) == (toy.codes.to_dense() > 0).numpy()).all()
    # the true codes (sparse) disentangle the factors; the superposed observations do not
    truth = infomec(toy.codes, factors, mi_estimator="binned")
    observed = infomec(toy.x, factors, mi_estimator="binned")
    assert truth.infom > 0.8 and observed.infom < 0.5 * truth.infom  # plug-in bias: not 1
    assert mig(toy.codes, factors) > 0.8 > 0.2 > mig(toy.x, factors)
