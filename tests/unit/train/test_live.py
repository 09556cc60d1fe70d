"""Training straight from a model (no store): deterministic batches, an exact resume, the CLI."""

import json

import pytest
import torch

from saekit.artifacts import DICTIONARY_CONFIG
from saekit.cli import main
from saekit.train import train
from saekit.train.checkpoint import load_checkpoint
from saekit.train.live import LiveConfig, LiveSource
from tests.unit.train.commands import Crash, crashing, train_config

HOOK = "blocks.1.hook_resid_post"
LIVE = dict(hooks=[HOOK], corpus_tokens=4096, context_length=32, buffer_rows=1024)


def live_source(model) -> LiveSource:
    return LiveSource(model, LiveConfig(**LIVE))


def test_live_batches_are_deterministic_and_restart_at_any_batch(tiny_lm):
    source = live_source(tiny_lm)
    assert source.dim(HOOK) == 32
    first = next(source.batches(256, seed=0))[HOOK]
    again = next(source.batches(256, seed=0, start=0))[HOOK]
    assert torch.equal(first, again) and first.shape == (256, 32)
    skipped = next(source.batches(256, seed=0, start=3))[HOOK]
    third = list(zip(range(4), source.batches(256, seed=0), strict=False))[3][1]
    assert torch.equal(skipped, third[HOOK])


def test_an_interrupted_live_run_resumes_to_the_uninterrupted_result(tiny_lm, tmp_path):
    config = train_config(d_sae=64, k=4, tokens=20 * 256, batch_size=256, checkpoint_every=4)
    (whole,) = train(live_source(tiny_lm), config, tmp_path / "whole", progress=False)
    with pytest.raises(Crash):
        train(crashing(live_source(tiny_lm), 10), config, tmp_path / "resumed", progress=False)
    assert load_checkpoint(tmp_path / "resumed")["step"] == 8  # where the resume starts
    (resumed,) = train(live_source(tiny_lm), config, tmp_path / "resumed", progress=False)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, msg=name)


def test_saekit_train_runs_live_from_the_command_line(tiny_lm_folder, tmp_path, capsys):
    out = tmp_path / "live"
    args = ["train", "--model", str(tiny_lm_folder), "--hooks", HOOK, "--out", str(out)]
    args += ["--corpus-tokens", "4096", "--context-length", "32", "--buffer-rows", "1024"]
    args += ["--tokens", "2560", "--batch-size", "256", "--d-sae", "64", "--k", "4"]
    assert main([*args, "--device", "cpu"]) == 0
    saved = json.loads((out / DICTIONARY_CONFIG).read_text())
    assert saved["metadata"] == {
        "model_name": str(tiny_lm_folder),
        "hook_name": HOOK,
        "hook_name_out": None,
    }
    assert saved["saekit"]["training"]["steps"] == 10
    assert "d_sae=64" in capsys.readouterr().out
