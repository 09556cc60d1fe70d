import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from saekit.artifacts import TRAIN_STATE
from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import load
from saekit.sae.standard import StandardSAE
from saekit.sae.topk import TopKSAE
from saekit.store.importing import import_array
from saekit.train import ArraySource, StoreSource, train
from saekit.train.checkpoint import load_checkpoint
from saekit.train.trainer import all_finite
from tests.unit.train.commands import Crash, crashing, train_args, train_config


@pytest.fixture(scope="module")
def toy():
    return toy_superposition(n_features=128, d=32, n_samples=40_000, p_active=0.02, seed=0)


def small(**overrides):
    options = dict(d_sae=64, k=4, tokens=20 * 256, batch_size=256, lr=1e-3, dead_window=2048)
    return train_config(**(options | overrides))


def test_topk_recovers_the_true_features_of_a_toy_model(toy, tmp_path):
    config = train_config(
        d_sae=256, k=4, tokens=400_000, batch_size=512, lr=2e-3, dead_window=20_000
    )
    (sae,) = train(ArraySource(toy.x), config, tmp_path / "sae", progress=False)
    recovery = feature_recovery(toy.features, sae.W_dec)
    assert recovery.mmcs >= 0.9 and recovery.fraction_recovered >= 0.8
    reloaded = load(tmp_path / "sae")
    x = toy.x[:500]
    torch.testing.assert_close(reloaded(x).reconstruction, sae(x).reconstruction)
    residual = (x - sae(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert residual < 0.2  # folded normalisation: raw inputs reconstruct directly


@pytest.mark.parametrize(
    "architecture", ["standard", "batchtopk", "jumprelu", "gated", "matryoshka_batchtopk"]
)
def test_every_architecture_trains_and_lowers_its_error(toy, tmp_path, architecture):
    config = small(
        architecture=architecture,
        tokens=60 * 256,
        matryoshka_widths=[16, 32],
        l1_coefficient=0.5,
        l0_coefficient=0.05,
    )
    (sae,) = train(ArraySource(toy.x), config, tmp_path / "d", progress=False)
    x = toy.x[:2000]
    fvu = ((x - sae(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()).item()
    assert fvu < 0.7, f"{architecture} fvu {fvu}"


@pytest.mark.parametrize(
    "architecture, optimizer",
    [
        ("topk", "schedule-free-sign"),
        ("batchtopk", "schedule-free-sign"),
        ("jumprelu", "schedule-free-sign"),
        ("topk", "adam"),
        ("topk", "signum"),
    ],
)
def test_resume_after_a_crash_is_bitwise_identical(toy, tmp_path, architecture, optimizer):
    store = import_array(toy.x[:6000], tmp_path / "store", hook="h", shard_rows=1000)
    source = StoreSource(store)
    config = small(
        architecture=architecture,
        optimizer=optimizer,
        tokens=30 * 256,
        checkpoint_every=4,
        dead_window=512,
    )
    (straight,) = train(source, config, tmp_path / "a", progress=False)
    with pytest.raises(Crash):
        train(crashing(source, after=14), config, tmp_path / "b", progress=False)
    assert load_checkpoint(tmp_path / "b")["step"] == 12
    (resumed,) = train(source, config, tmp_path / "b", progress=False)
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert torch.equal(a["since_fired"], b["since_fired"]) and a["step"] == b["step"] == 30


def test_killed_training_process_resumes_bitwise(toy, tmp_path):
    np.save(tmp_path / "x.npy", toy.x[:8000].numpy())
    env = os.environ | {"OMP_NUM_THREADS": "1"}

    def command(out):
        return [
            sys.executable,
            *train_args(
                tmp_path / "x.npy",
                out,
                arch="topk",
                k=4,
                d_sae=512,
                tokens=400 * 256,
                batch_size=256,
                checkpoint_every=2,
            ),
        ]

    subprocess.run(command(tmp_path / "a"), env=env, check=True, capture_output=True)
    proc = subprocess.Popen(command(tmp_path / "b"), env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "b" / TRAIN_STATE).exists():
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    step = load_checkpoint(tmp_path / "b")["step"]
    assert 0 < step < 400, "the run finished before it could be killed"
    subprocess.run(command(tmp_path / "b"), env=env, check=True, capture_output=True)
    a = (tmp_path / "a" / "sae_weights.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "sae_weights.safetensors").read_bytes()


def test_a_sweep_on_one_stream_equals_separate_runs(toy, tmp_path):
    source = ArraySource(toy.x[:5000])
    configs = [small(k=2), small(k=6)]
    both = train(source, configs, [tmp_path / "k2", tmp_path / "k6"], progress=False)
    (alone,) = train(source, configs[1], tmp_path / "alone", progress=False)
    assert torch.equal(both[1].W_dec, alone.W_dec)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 3e38, None])
def test_all_finite_agrees_with_isfinite(bad):
    values = torch.randn(40, 7)
    if bad is not None:
        values[13, 5] = bad
    assert all_finite(values) == bool(torch.isfinite(values).all())
    assert all_finite(values[:0])


def test_nonfinite_batches_are_skipped_and_counted(toy, tmp_path):
    x = toy.x[:4096].clone()
    x[5] = float("nan")
    (sae,) = train(ArraySource(x), small(tokens=16 * 256), tmp_path / "d", progress=False)
    state = load_checkpoint(tmp_path / "d")
    assert state["skipped"] >= 1 and state["step"] + state["skipped"] == 16
    assert all(torch.isfinite(p).all() for p in sae.parameters())


def test_checkpoint_of_another_architecture_or_setting_is_refused(toy, tmp_path):
    source = ArraySource(toy.x[:4096])
    train(source, small(), tmp_path / "d", progress=False)
    with pytest.raises(ValueError, match="checkpoint of a topk dictionary, not jumprelu"):
        train(source, small(architecture="jumprelu"), tmp_path / "d", progress=False)
    with pytest.raises(ValueError, match="lr differ"):
        train(source, small(lr=5e-3), tmp_path / "d", progress=False)


def test_train_config_and_sources_refuse_nonsense():
    with pytest.raises(ValueError, match="d_sae must be positive"):
        train_config(d_sae=0)
    with pytest.raises(ValueError, match="equal N"):
        ArraySource({"a": torch.zeros(4, 2), "b": torch.zeros(5, 2)})


def test_bf16_autocast_trains_to_a_similar_error(toy, tmp_path):
    source = ArraySource(toy.x[:8192])
    fvus = []
    for mode in ("off", "on"):
        (sae,) = train(
            source, small(tokens=40 * 256, autocast=mode), tmp_path / mode, progress=False
        )
        x = toy.x[:2000]
        fvus.append(
            ((x - sae(x).reconstruction).pow(2).sum() / (x - x.mean(0)).pow(2).sum()).item()
        )
    assert abs(fvus[0] - fvus[1]) < 0.05, fvus


def test_metrics_are_logged_to_jsonl(toy, tmp_path):
    import json

    train(
        ArraySource(toy.x[:4096]),
        small(log_to="jsonl", log_every=5),
        tmp_path / "d",
        progress=False,
    )
    lines = [
        json.loads(line) for line in (tmp_path / "d" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [row["step"] for row in lines] == [5, 10, 15, 20]
    assert {"loss", "mse", "l0", "fvu", "dead_fraction", "lr"} <= set(lines[0])
    assert lines[-1]["fvu"] < lines[0]["fvu"]


def test_inputs_are_scaled_to_the_mean_norm_the_recipe_resolves(toy, tmp_path):
    sign, adam = train_config(), train_config(optimizer="adam")
    assert sign.input_norm_for(TopKSAE) == 0.25 and adam.input_norm_for(TopKSAE) == 1.0
    assert sign.input_norm_for(StandardSAE) == 1.0
    assert train_config(input_norm=0.5).input_norm_for(StandardSAE) == 0.5
    with pytest.raises(ValueError, match="input_norm must be > 0"):
        train_config(input_norm=0.0)
    x = toy.x[:4096] * 7.0  # the data's units must not matter
    for architecture, target in (("topk", 0.25), ("standard", 1.0)):
        out = tmp_path / architecture
        config = small(architecture=architecture, tokens=256, checkpoint_every=1)
        train(ArraySource(x), config, out, progress=False)
        scaled = x * load_checkpoint(out)["scale_in"]  # set on the first batch: close to all
        assert scaled.norm(dim=1).mean() == pytest.approx(target * x.shape[1] ** 0.5, rel=0.1)
