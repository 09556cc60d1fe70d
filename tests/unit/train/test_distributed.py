"""Two ranks under torchrun (gloo, CPU, one thread each) train the same dictionary as one
process with the same global batch."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from saekit.data.toy import toy_superposition
from saekit.sae import load
from tests.unit.train.commands import train_args


def torchrun() -> list[str]:
    exe = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "torch.distributed.run"]


@pytest.mark.parametrize("architecture", ["topk", "batchtopk"])
def test_two_gloo_ranks_match_one_process(tmp_path, architecture):
    x = toy_superposition(n_features=96, d=24, n_samples=8192, seed=1).x
    np.save(tmp_path / "x.npy", x.numpy())
    flags = dict(
        arch=architecture,
        k=4,
        width=96,
        tokens=40 * 512,
        batch_size=512,
        dead_window=4096,
        device="cpu",
    )
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    one = train_args(tmp_path / "x.npy", tmp_path / "one", **flags)
    subprocess.run([sys.executable, *one], env=env, check=True, capture_output=True, timeout=300)
    two = train_args(tmp_path / "x.npy", tmp_path / "two", **flags)
    ranks = [*torchrun(), "--standalone", "--nproc_per_node", "2", *two]
    done = subprocess.run(ranks, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = load(tmp_path / "one"), load(tmp_path / "two")
    for name, value in one.state_dict().items():
        torch.testing.assert_close(two.state_dict()[name], value, rtol=1e-3, atol=1e-4, msg=name)
    cfg = (tmp_path / "two" / "cfg.json").read_text()
    assert '"ranks": 2' in cfg


SHARE_SCRIPT = """
import sys, torch
from saekit.distributed import init_from_env
from saekit.train import ArraySource, TrainConfig, train
torch.manual_seed(0)
x = torch.randn(2048, 16)
source = ArraySource({"a": x, "b": x * 2})
configs = [TrainConfig(width=32, k=4, tokens=4096, batch_size=256, hook=h) for h in ("a", "b")]
outs = [sys.argv[1] + "/a", sys.argv[1] + "/b"]
done = train(source, configs, outs, progress=False, distributed=init_from_env(),
             distribute_dictionaries=True)
print("trained", [d.cfg.hook_name for d in done])
"""


def test_dictionaries_can_be_shared_out_across_ranks(tmp_path):
    script = tmp_path / "share.py"
    script.write_text(SHARE_SCRIPT)
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*torchrun(), "--standalone", "--nproc_per_node", "2", str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained ['a']" in done.stdout and "trained ['b']" in done.stdout
    assert load(tmp_path / "a").cfg.hook_name == "a" and load(tmp_path / "b").cfg.hook_name == "b"
