"""docs/multi-machine.md, run as written: each command after the set-up block is started on two
"machines" at once (two torchrun agents, one process each, on 127.0.0.1, gloo), at small size."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from saekit.sae import load
from saekit.store import ActivationStore
from tests.unit.train.test_distributed import first_error

PAGE = Path(__file__).resolve().parents[2] / "docs" / "multi-machine.md"


def commands() -> list[str]:
    """The page's bash blocks after the first (the set-up a cluster user edits)."""
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) == 4, "the page's set-up block and its three commands"
    return blocks[1:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_two_machines(command: str, env: dict) -> None:
    env = env | {"PORT": str(free_port())}
    runs = [
        subprocess.Popen(
            ["bash", "-c", command],
            env=env | {"NODE_RANK": str(node)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for node in (0, 1)
    ]
    try:
        outputs = [run.communicate(timeout=300) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, 9)
                run.wait()
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, f"{command}\nexit {run.returncode}: {first_error(stderr)}"


@pytest.fixture(scope="module")
def cluster_env(tiny_lm_folder, tmp_path_factory) -> dict:
    shared = tmp_path_factory.mktemp("shared")
    return os.environ | {
        "NNODES": "2",
        "GPUS": "1",
        "HOST": "127.0.0.1",
        "SHARED": str(shared),
        "MODEL": str(tiny_lm_folder),
        "TOKENS": "6000",
        "HOOK": "blocks.1.hook_resid_post",
        "WIDTH": "64",
        "VECTORS": "16384",
        "OMP_NUM_THREADS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # the venv's
    }


def test_every_command_on_the_page_runs_on_two_machines(cluster_env):
    harvest, data_parallel, spread = commands()
    shared = Path(cluster_env["SHARED"])
    on_two_machines(harvest, cluster_env)
    store = ActivationStore.open(shared / "acts")
    assert store.manifest.complete and len(store) > 5000  # tokens less the BOS rows
    on_two_machines(data_parallel, cluster_env)
    assert load(shared / "sae").cfg.hook_name == cluster_env["HOOK"]
    on_two_machines(spread, cluster_env)
    for hook in store.hooks:
        assert load(shared / "saes" / hook).cfg.hook_name == hook
