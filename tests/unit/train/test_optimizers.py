"""The sign-based and schedule-free optimizers against hand-computed steps (their bitwise
resume is in test_trainer.py), and the default recipe recovering a toy model's true features at
a small budget."""

import pytest
import torch

from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import load
from saekit.sae.base import unit_rows_
from saekit.train import ArraySource, TrainConfig, train
from saekit.train.optimizers import ScheduleFree, SignSGD, default_lr
from tests.unit.train.commands import train_config


def test_signum_moves_every_weight_by_the_learning_rate_along_the_momentums_sign():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = SignSGD([p], lr=0.1, momentum=0.5)
    p.grad = torch.tensor([4.0, -0.001, 0.0])
    opt.step()
    torch.testing.assert_close(p.data, torch.tensor([0.9, -1.9, 3.0]))
    p.grad = torch.tensor([-1.0, -1.0, 0.0])  # momentum: 0.5 * 2 + 0.5 * -1 = 1.5 > 0 still
    opt.step()
    torch.testing.assert_close(p.data, torch.tensor([0.8, -1.8, 3.0]))


def test_schedule_free_averages_the_base_sequence_and_takes_gradients_between():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.zeros(4))
    opt = ScheduleFree([p], lambda z: torch.optim.SGD(z, lr=0.5), momentum=0.9)
    target = torch.tensor([1.0, -1.0, 2.0, 0.5])
    zs, weights = [], []
    for step in range(30):
        opt.param_groups[0]["lr"] = 0.5 * min(1.0, (step + 1) / 5)  # warmup weighs early less
        opt.zero_grad()
        ((p - target).pow(2).sum() + 0.1 * (torch.randn(4) * p).sum()).backward()
        opt.step()
        zs.append(opt.z[0].clone())
        weights.append(opt.param_groups[0]["lr"] ** 2)
    w = torch.tensor(weights)
    x = (torch.stack(zs) * w[:, None]).sum(0) / w.sum()
    torch.testing.assert_close(opt.x[0], x)
    torch.testing.assert_close(p.data, 0.1 * zs[-1] + 0.9 * x)  # y, where gradients are taken
    y = p.data.clone()
    opt.average()
    torch.testing.assert_close(p.data, x)
    opt.resume_training()
    torch.testing.assert_close(p.data, y)
    assert (x - target).norm() < 0.3


def test_schedule_free_constrains_where_gradients_are_taken_and_the_average_follows():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.nn.functional.normalize(torch.randn(6, 3), dim=1))
    opt = ScheduleFree([w], lambda z: SignSGD(z, lr=0.3, momentum=0.0), momentum=0.9)
    for _ in range(5):
        w.grad = torch.randn(6, 3)
        opt.step()
        opt.constrain(w, unit_rows_)
        z, x = opt.z[0], opt.x[0]
        torch.testing.assert_close(w.data.norm(dim=1), torch.ones(6))  # y: projected
        torch.testing.assert_close(w.data, 0.1 * z + 0.9 * x)  # x moved with it
    assert (z.norm(dim=1) - 1).abs().max() > 0.1  # z free: sign steps grow it


@pytest.fixture(scope="module")
def toy():
    return toy_superposition(n_features=128, d=32, n_samples=80_000, p_active=0.02, seed=0)


def test_the_default_recipe_recovers_the_true_features_of_a_toy_model(toy, tmp_path):
    defaults = TrainConfig()
    config = train_config(d_sae=256, k=4, tokens=80_000, batch_size=1024, dead_window=20_000)
    assert config.optimizer == defaults.optimizer and config.lr is None
    (sae,) = train(ArraySource(toy.x), config, tmp_path / "sae", progress=False)
    recovery = feature_recovery(toy.features, sae.W_dec)
    assert recovery.fraction_recovered >= 0.9, recovery.fraction_recovered
    x = toy.x[-2000:]
    fvu = (x - sae(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert fvu < 0.2
    torch.testing.assert_close(load(tmp_path / "sae")(x).reconstruction, sae(x).reconstruction)


def test_sign_learning_rates_shrink_with_width_like_sparsify():
    assert default_lr("schedule-free-sign", 2**14) == pytest.approx(5e-3)
    assert default_lr("schedule-free-sign", 4096) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="unknown optimizer"):
        TrainConfig(optimizer="lion")
