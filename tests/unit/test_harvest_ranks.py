"""Two gloo ranks under torchrun harvest disjoint shards into one store, which is byte for byte
the store one process writes; a store left with a part file and a gap resumes to the same."""

import json
import os
import subprocess

from saekit.artifacts import store_part
from saekit.store import ActivationStore, Manifest
from tests.unit.test_harvest import assert_stores_identical, collect_command
from tests.unit.train.test_distributed import run_checked, torchrun

ENV = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TOKENS = 64 * 2 * 7  # 7 shards of one batch: the ranks get 4 and 3
HOOKS = "blocks.*.hook_resid_post"


def two_ranks(command: list[str]) -> list[str]:
    """`python -m saekit collect …` as two torchrun ranks, logging at INFO level."""
    _, dash_m, saekit, *rest = command
    return [*torchrun(), "--standalone", "--nproc_per_node", "2", dash_m, saekit, "-v", *rest]


def test_two_ranks_write_the_store_one_process_writes(tiny_lm_folder, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_checked(collect_command(str(tiny_lm_folder), one, TOKENS, HOOKS), ENV)
    done = run_checked(two_ranks(collect_command(str(tiny_lm_folder), two, TOKENS, HOOKS)), ENV)
    assert "rank 0 of 2 harvests 4 of the 7 shards left" in done.stderr
    assert "rank 1 of 2 harvests 3 of the 7 shards left" in done.stderr
    assert_stores_identical(one, two)
    store = ActivationStore.open(two)
    assert store.manifest.complete and len(store.manifest.shards) == 7
    assert [s.first_batch for s in store.manifest.shards] == list(range(7))


def test_a_store_left_by_ranks_resumes_to_the_same_bytes(tiny_lm_folder, tmp_path):
    """As a 2-rank run killed midway leaves it: rank 1's shards listed only in its part file,
    the shard it was writing unlisted (and a temporary beside it), rank 0's in the manifest."""
    reference, left = tmp_path / "reference", tmp_path / "left"
    run_checked(collect_command(str(tiny_lm_folder), reference, TOKENS, HOOKS), ENV)
    subprocess.run(["cp", "-r", str(reference), str(left)], check=True)
    manifest = Manifest.read(left)
    rank0, rank1 = manifest.shards[0::2], manifest.shards[1::2]
    finished, unlisted = rank1[:-1], rank1[-1]
    (left / unlisted.file).unlink()
    (left / "shards" / ".00005.safetensors.tmp-99").write_bytes(b"half a shard")
    part = json.dumps([vars(s) for s in finished])
    (left / store_part(1)).write_text(part)
    manifest.shards, manifest.complete = rank0[:-1], False  # rank 0's last one missing too
    manifest.write(left)
    assert len(ActivationStore.open(left).manifest.shards) == 3  # readable, with gaps

    run_checked(two_ranks(collect_command(str(tiny_lm_folder), left, TOKENS, HOOKS)), ENV)
    assert not (left / store_part(1)).exists()
    assert_stores_identical(reference, left)


def test_a_refused_resume_stops_every_rank(tiny_lm_folder, tmp_path):
    out = tmp_path / "store"
    run_checked(collect_command(str(tiny_lm_folder), out, TOKENS, HOOKS), ENV)
    command = two_ranks(collect_command(str(tiny_lm_folder), out, 2 * TOKENS, HOOKS))
    done = subprocess.run(
        command,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "cannot be resumed" in done.stderr
    assert Manifest.read(out).complete  # the store is untouched
