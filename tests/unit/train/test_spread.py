"""Dictionaries spread over ranks (`distribute_dictionaries`): under 2 and 3 gloo ranks every
dictionary ends with the weights one process gives it on the same global batches, however
unevenly they split; a run killed on one rank resumes on another number of ranks; the owners
balance parameter counts."""

import os
import subprocess

import pytest
import torch

from saekit.sae import DictionaryConfig, load
from saekit.train import ArraySource, TrainConfig, train
from saekit.train.spread import assign_owners
from tests.unit.train.test_distributed import first_error, torchrun

SCRIPT = """
import os, signal, sys, torch
from saekit.distributed import process_group_from_env
from saekit.train import train
sys.path.insert(0, {tests!r})
from tests.unit.train.test_spread import dictionaries, data

class KilledAt:
    '''The data, and this rank killed (SIGKILL) when it reaches batch `at`.'''
    def __init__(self, inner, at):
        self.inner, self.at, self.hooks = inner, at, inner.hooks
    def dim(self, hook):
        return self.inner.dim(hook)
    def fingerprint(self):
        return self.inner.fingerprint()
    def batches(self, batch_size, seed, start=0, part=slice(None)):
        for index, batch in enumerate(self.inner.batches(batch_size, seed, start, part), start):
            if index == self.at:
                os.kill(os.getpid(), signal.SIGKILL)
            yield batch

out = sys.argv[1]
configs, outs = dictionaries(out)
source = data()
with process_group_from_env() as distributed:
    kill = os.environ.get("KILL_RANK_AT")
    if kill and distributed.rank == 1:
        source = KilledAt(source, int(kill))
    train(source, configs, outs, progress=False, distributed=distributed,
          distribute_dictionaries=True)
"""
TOKENS, BATCH = 24 * 240, 240  # 24 steps; 240 rows divide by 2 and by 3 ranks


def data() -> ArraySource:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(4096, 16, generator=generator)
    b = torch.tanh(a @ torch.randn(16, 12, generator=generator))
    return ArraySource({"a": a, "b": b, "c": a[:, :8] * 2})


def dictionaries(out: str, checkpoint_every: int = 0) -> tuple[list[TrainConfig], list[str]]:
    """Five dictionaries of different sizes and hooks, a transcoder among them."""
    shapes = [
        ("a", None, "topk", 64),
        ("a", None, "topk", 32),
        ("b", None, "batchtopk", 48),
        ("c", None, "topk", 16),
        ("a", "b", "topk", 40),  # a transcoder: reads a, predicts b
    ]
    configs = [
        TrainConfig(
            DictionaryConfig(arch, width, k=4, hook_name=hook, hook_name_out=target),
            tokens=TOKENS,
            batch_size=BATCH,
            dead_window=4 * BATCH,
            checkpoint_every=checkpoint_every or 8,
        )
        for hook, target, arch, width in shapes
    ]
    return configs, [f"{out}/d{i}" for i in range(len(shapes))]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("one")
    configs, outs = dictionaries(str(out))
    train(data(), configs, outs, progress=False)
    return [load(o).state_dict() for o in outs]


def assert_same_weights(outs: list[str], reference: list[dict]) -> None:
    for out, expected in zip(outs, reference, strict=True):
        got = load(out).state_dict()
        for name, value in expected.items():
            torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-5, msg=f"{out} {name}")


def launch(ranks: int, out, script, env=None) -> subprocess.CompletedProcess:
    command = [*torchrun(), "--standalone", "--nproc_per_node", str(ranks), str(script), str(out)]
    env = os.environ | {"OMP_NUM_THREADS": "1"} | (env or {})
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "spread.py"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    path.write_text(SCRIPT.format(tests=root))
    return path


@pytest.mark.parametrize("ranks", [2, 3])
def test_spread_dictionaries_match_one_process(tmp_path, script, one_process, ranks):
    done = launch(ranks, tmp_path, script)
    assert done.returncode == 0, first_error(done.stderr)
    assert_same_weights(dictionaries(str(tmp_path))[1], one_process)


def test_a_run_killed_on_one_rank_resumes_on_another_number_of_ranks(tmp_path, script, one_process):
    killed = launch(2, tmp_path, script, {"KILL_RANK_AT": "13"})
    assert killed.returncode != 0
    outs = dictionaries(str(tmp_path))[1]
    assert any(os.path.exists(f"{o}/train_state.pt") for o in outs)  # checkpoints at step 8
    assert not any(os.path.exists(f"{o}/cfg.json") for o in outs)  # nothing finished
    done = launch(3, tmp_path, script)
    assert done.returncode == 0, first_error(done.stderr)
    assert_same_weights(outs, one_process)


def test_owners_balance_parameter_counts():
    assert assign_owners([100, 10, 10, 10, 60], 2) == [0, 1, 1, 1, 1]
    assert assign_owners([5, 5, 5], 2) == [0, 1, 0]
    assert assign_owners([7], 3) == [0]  # ranks without a dictionary only read and send
    sizes = [64 * 32, 32 * 32, 48 * 24, 16 * 16, 40 * 28]
    owners = assign_owners(sizes, 2)
    loads = [sum(s for s, o in zip(sizes, owners, strict=True) if o == r) for r in (0, 1)]
    assert max(loads) <= min(loads) + max(sizes)
