import pytest
import torch

from saekit.analysis.similarity import (
    linear_cka,
    match_features,
    relative_representation,
    relative_similarity,
)
from saekit.data.toy import toy_superposition
from saekit.sae import DictionaryConfig, build
from saekit.train import ArraySource, train
from tests.unit.train.commands import train_config


def test_relative_representations_are_invariant_to_rotation_and_scale():
    z = torch.randn(300, 8)
    q = torch.linalg.qr(torch.randn(8, 8))[0]
    assert relative_similarity(z, 3.0 * z @ q) == pytest.approx(1.0, abs=1e-5)
    assert relative_similarity(z, torch.randn(300, 8)) < 0.5
    assert relative_representation(z, z[:5]).shape == (300, 5)


def test_linear_cka_known_values():
    z = torch.randn(500, 6)
    q = torch.linalg.qr(torch.randn(6, 6))[0]
    assert linear_cka(z, z @ q * 2 + 1) == pytest.approx(1.0, abs=1e-6)
    assert linear_cka(z, torch.randn(500, 6)) < 0.1
    with pytest.raises(ValueError, match="same inputs"):
        linear_cka(z, z[:10])


def test_hungarian_matching_recovers_a_permutation():
    d = torch.randn(20, 16)
    perm = torch.randperm(20)
    match = match_features(d, d[perm] * 2)
    assert match.mmcs == pytest.approx(1.0, abs=1e-6)
    assert match.hungarian_mean_cosine == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(perm[match.assignment[:, 1]], match.assignment[:, 0])


def test_saes_from_two_seeds_agree_more_with_each_other_than_with_a_random_dictionary(tmp_path):
    toy = toy_superposition(n_features=64, d=16, n_samples=30_000, p_active=0.03, seed=7)
    saes = []
    for seed in (0, 1):
        config = train_config(
            d_sae=128, k=4, tokens=200_000, batch_size=512, lr=2e-3, dead_window=10_000, seed=seed
        )
        saes.append(train(ArraySource(toy.x), config, tmp_path / f"s{seed}", progress=False)[0])
    random = build(DictionaryConfig("topk", 16, 128, k=4))
    same = match_features(saes[0].W_dec, saes[1].W_dec)
    other = match_features(saes[0].W_dec, random.W_dec)
    # in 16 dims, 128 random directions already reach a max cosine ~0.6 with each other
    assert same.mmcs > other.mmcs + 0.1
    assert same.hungarian_mean_cosine > other.hungarian_mean_cosine + 0.1
    x = toy.x[:2000]
    with torch.no_grad():
        z0, z1, zr = (s.encode(x) for s in (saes[0], saes[1], random))
    assert linear_cka(z0, z1) > linear_cka(z0, zr)
    assert relative_similarity(z0, z1) > relative_similarity(z0, zr)
