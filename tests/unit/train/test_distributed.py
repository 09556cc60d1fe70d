"""Two ranks under torchrun (gloo, CPU, one thread each) train the same dictionary as one
process with the same global batch."""

import json
import os
import re
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


PROGRESS_BAR = re.compile(r"\d+%\|")
ERROR_MARKERS = ("Traceback", "Error", "error:", "terminate called", "Signal", "FAILED")


def first_error(stderr: str, context: int = 12) -> str:
    """The first error line of a run's stderr and what follows it (progress bars dropped), so
    a failure names its cause rather than the tail of a progress bar."""
    lines = stderr.replace("\r", "\n").splitlines()
    lines = [line for line in lines if not PROGRESS_BAR.search(line)]
    for i, line in enumerate(lines):
        if any(marker in line for marker in ERROR_MARKERS):
            return "\n".join(lines[i : i + context])
    return "\n".join(lines[-context:])


def run_checked(command: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {first_error(done.stderr)}"
    return done


def test_first_error_skips_progress_bars():
    stderr = "train: 10%|#| 4/40 [00:01, 3.1step/s]\rtrain: 100%|#| 40/40 [00:02, 3.2step/s]\n"
    stderr += "terminate called without an active exception\nW0 rank 1 exited\n"
    assert first_error(stderr).startswith("terminate called without an active exception")


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
    run_checked([sys.executable, *train_args(tmp_path / "x.npy", tmp_path / "one", **flags)], env)
    two = train_args(tmp_path / "x.npy", tmp_path / "two", **flags)
    run_checked([*torchrun(), "--standalone", "--nproc_per_node", "2", *two], env)
    one, two = load(tmp_path / "one"), load(tmp_path / "two")
    for name, value in one.state_dict().items():
        torch.testing.assert_close(two.state_dict()[name], value, rtol=1e-3, atol=1e-4, msg=name)
    cfg = (tmp_path / "two" / "cfg.json").read_text()
    assert '"ranks": 2' in cfg


SHARE_SCRIPT = """
import json, os, sys, torch
from pathlib import Path
from saekit.distributed import process_group_from_env
from saekit.sae import DictionaryConfig
from saekit.train import ArraySource, TrainConfig, train
torch.manual_seed(0)
x = torch.randn(2048, 16)
source = ArraySource({"a": x, "b": x * 2})
configs = [TrainConfig(DictionaryConfig(d_sae=32, k=4, hook_name=h), tokens=4096, batch_size=256)
           for h in ("a", "b")]
outs = [sys.argv[1] + "/a", sys.argv[1] + "/b"]
with process_group_from_env() as distributed:
    done = train(source, configs, outs, progress=False, distributed=distributed,
                 distribute_dictionaries=True)
    trained = [d.cfg.hook_name for d in done]
# the group's threads must be gone once the block ends, not left for the interpreter's exit
tasks = Path("/proc/self/task")
threads = [(tasks / t / "comm").read_text().strip() for t in os.listdir(tasks)]
# one file per rank: the ranks' stdout shares a pipe and may interleave
report = {"trained": trained, "threads": threads}
Path(sys.argv[1], f"rank{distributed.rank}.json").write_text(json.dumps(report))
"""


def test_dictionaries_can_be_shared_out_across_ranks(tmp_path):
    script = tmp_path / "share.py"
    script.write_text(SHARE_SCRIPT)
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    run_checked(
        [*torchrun(), "--standalone", "--nproc_per_node", "2", str(script), str(tmp_path)], env
    )
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["trained"] for r in reports] == [["a"], ["b"]]
    assert [[t for t in r["threads"] if "gloo" in t] for r in reports] == [[], []]
    assert load(tmp_path / "a").cfg.hook_name == "a" and load(tmp_path / "b").cfg.hook_name == "b"
