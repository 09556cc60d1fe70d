"""The reference autoencoders train on dSprites-like images and expose what the metrics use."""

import pytest
import torch

from saekit.analysis.activity import vae_activity
from saekit.analysis.factor_data.dsprites import DSprites
from saekit.analysis.reference_models import ReferenceTrainConfig, train_reference

DATA = DSprites(orientations=4, positions=8, size=16)


@pytest.mark.parametrize("model", ["ae", "beta_vae", "qlae"])
def test_each_reference_model_learns(model):
    cfg = ReferenceTrainConfig(model=model, n_latents=4, hidden=32, steps=150, lr=3e-3)
    trained = train_reference(cfg, DATA, progress=False)
    start, end = trained.reconstruction[:10], trained.reconstruction[-10:]
    assert sum(end) < 0.6 * sum(start)
    images = torch.from_numpy(DATA[list(range(8))].images)
    assert trained.model.represent(images).shape == (8, 4)


def test_qlae_latents_take_only_codebook_values():
    cfg = ReferenceTrainConfig(model="qlae", n_latents=3, hidden=16, steps=5, n_values=5)
    model = train_reference(cfg, DATA, progress=False).model
    images = torch.from_numpy(DATA[list(range(50))].images)
    z, codes = model.represent(images), model.codes(images)
    assert torch.allclose(z, model.quantizer.values.gather(1, codes.T).T, atol=1e-6)
    assert codes.max() < 5


def test_vae_posterior_feeds_the_activity_report():
    cfg = ReferenceTrainConfig(model="beta_vae", n_latents=6, hidden=32, steps=100, beta=20.0)
    model = train_reference(cfg, DATA, progress=False).model
    with torch.no_grad():
        mean, logvar = model.posterior(torch.from_numpy(DATA[list(range(0, 3000, 7))].images))
    report = vae_activity(mean, logvar)
    assert report.kl.shape == (6,) and report.passive.any()  # a strong beta collapses some


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="'ae', 'beta_vae' or 'qlae'"):
        ReferenceTrainConfig(model="vqvae")
