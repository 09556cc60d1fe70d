import pytest
import torch

from saekit.analysis.activity import dictionary_activity, vae_activity
from saekit.sae import DictionaryConfig, build


def test_dead_rare_dense_and_the_variance_each_group_carries():
    torch.manual_seed(0)
    sae = build(DictionaryConfig("standard", 4, 3, apply_b_dec_to_input=False))
    with torch.no_grad():
        sae.W_enc.copy_(torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]]))
        sae.b_enc.copy_(torch.tensor([0.0, -2.5, -1.0]))  # latent 2 can never fire
        sae.W_dec.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]))
        sae.b_dec.zero_()
    x = torch.zeros(2000, 4)
    x[:, 0] = torch.rand(2000) + 0.1  # latent 0 fires on every row: dense
    x[0, 1] = 3.0  # latent 1 fires on one row of 2000: rare
    report = dictionary_activity(sae, x)
    assert report.dead.tolist() == [False, False, True]
    assert report.rare.tolist() == [False, True, False]
    assert report.dense.tolist() == [True, False, False]
    assert abs(report.density[1].item() - 1 / 2000) < 1e-9
    # the live latents together carry at least what the dense one carries alone
    assert report.variance_explained["active"] >= report.variance_explained["dense"]
    assert report.variance_explained["dense"] > report.variance_explained["rare"]


def test_vae_passive_variables_and_their_correlation():
    gen = torch.Generator().manual_seed(0)
    n = 5000
    active_means = torch.randn(n, 3, generator=gen)
    shared = torch.randn(n, 1, generator=gen)
    passive_means = 0.01 * (shared + 0.1 * torch.randn(n, 2, generator=gen))  # near 0, correlated
    mean = torch.cat([active_means, passive_means], 1)
    logvar = torch.cat([torch.full((n, 3), torch.log(torch.tensor(0.01))), torch.zeros(n, 2)], 1)
    report = vae_activity(mean, logvar)
    assert report.passive.tolist() == [False, False, False, True, True]
    expected_active_kl = 0.5 * (1 + 0.01 - torch.log(torch.tensor(0.01)) - 1)
    assert torch.allclose(report.kl[:3], expected_active_kl, atol=0.1)
    assert (report.kl[3:] < 1e-3).all()
    c = report.correlation
    # the passive pair is near-perfectly correlated in the means, washed out by sampling
    assert c["mean"] > 0.09 and c["mean"] > 5 * c["mean_active"] and c["sampled"] < 0.05
    assert c["sampled_active"] < 0.05


def test_vae_activity_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        vae_activity(torch.zeros(10, 3), torch.zeros(10, 4))
