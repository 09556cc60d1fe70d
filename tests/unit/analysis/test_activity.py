import torch
from saekit.analysis.activity import dictionary_activity

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
