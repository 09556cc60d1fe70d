import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import saekit
from saekit.collect import CollectConfig
from saekit.data.text import pack_windows
from saekit.store import ActivationStore, Manifest, StoreError

DOCS = [
    f"Document number {i} talks about cats, dogs and the weather in town {i}." for i in range(40)
]


def small_harvest(model, out, **kw):
    options = dict(tokens=512, context_length=32, batch_size=4, shard_batches=2) | kw
    return saekit.harvest(model, DOCS, "blocks.*.hook_resid_post", out, **options)


def test_harvest_rows_match_a_direct_forward(tiny_lm, tmp_path):
    store = small_harvest(tiny_lm, tmp_path / "s")
    assert store.hooks == ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"]
    windows = store.windows
    assert int(windows.max()) + 1 == 16  # 512 tokens / 32 per window
    first = windows == 0
    window = pack_windows(DOCS, tiny_lm.tokenizer, 32, 16, "prepend")
    ids, special = window.tokens[:1], window.special[0]
    assert ids[0, 0] == tiny_lm.tokenizer.bos_token_id and special[0]
    assert special.sum() >= 2  # BOS and at least one EOS between documents
    assert store.positions[first].tolist() == torch.nonzero(~special).flatten().tolist()
    assert store.tokens[first].tolist() == ids[0][~special].tolist()
    hidden = tiny_lm.module(input_ids=ids, output_hidden_states=True).hidden_states
    torch.testing.assert_close(
        store.activations("blocks.0.hook_resid_post")[first], hidden[1][0][~special]
    )
    assert store.manifest.config["exclude_special"] is True


def test_keeping_special_tokens_is_recorded(tiny_lm, tmp_path):
    store = small_harvest(tiny_lm, tmp_path / "s", exclude_special=False, dtype="bfloat16")
    assert len(store) == 512
    assert store.activations("blocks.0.hook_resid_post").dtype == torch.bfloat16
    assert store.manifest.resume_key["exclude_special"] is False


@pytest.mark.parametrize(
    "change, field",
    [
        ({"dtype": "float16"}, "dtype"),
        ({"context_length": 16}, "context_length"),
        ({"batch_size": 2}, "batch_size"),
        ({"seed": 1}, "seed"),
        ({"bos": "none"}, "bos"),
        ({"exclude_special": False}, "exclude_special"),
    ],
)
def test_resume_with_other_settings_is_refused(tiny_lm, tmp_path, change, field):
    small_harvest(tiny_lm, tmp_path / "s")
    before = Manifest.read(tmp_path / "s").to_json()
    with pytest.raises(StoreError, match=f"{field}: store has"):
        small_harvest(tiny_lm, tmp_path / "s", **change)
    assert Manifest.read(tmp_path / "s").to_json() == before


def test_resume_with_other_hook_or_corpus_is_refused(tiny_lm, tmp_path):
    small_harvest(tiny_lm, tmp_path / "s")
    with pytest.raises(StoreError, match="hooks: store has"):
        saekit.harvest(
            tiny_lm,
            DOCS,
            "blocks.0.hook_resid_post",
            tmp_path / "s",
            tokens=512,
            context_length=32,
            batch_size=4,
            shard_batches=2,
        )
    with pytest.raises(StoreError, match="data_fingerprint"):
        saekit.harvest(
            tiny_lm,
            DOCS[::-1],
            "blocks.*.hook_resid_post",
            tmp_path / "s",
            tokens=512,
            context_length=32,
            batch_size=4,
            shard_batches=2,
        )


def test_not_enough_disk_is_refused_with_the_figure(tiny_lm, tmp_path, monkeypatch):
    import shutil

    from saekit import collect as harvest_module

    monkeypatch.setattr(
        harvest_module.shutil,
        "disk_usage",
        lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000),
    )
    with pytest.raises(StoreError, match=r"needs about 0\.00\d* GB but .* has only 0\.00 GB free"):
        small_harvest(tiny_lm, tmp_path / "s")
    assert Manifest.read(tmp_path / "s").shards == []


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="tokens must be a positive"):
        CollectConfig(tokens=0)
    with pytest.raises(ValueError, match="dtype must be"):
        CollectConfig(dtype="int8")


def collect_command(model: str, out: Path, tokens: int, hooks: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "saekit",
        "collect",
        "--model",
        model,
        "--out",
        str(out),
        "--hooks",
        hooks,
        "--tokens",
        str(tokens),
        "--context-length",
        "64",
        "--batch-size",
        "2",
        "--shard-batches",
        "1",
        "--device",
        "cpu",
    ]


def kill_after_shards(command: list[str], out: Path, n_shards: int, env: dict) -> int:
    """Start a harvest, SIGKILL it once `n_shards` shards are complete; return shards done."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                if len(Manifest.read(out).shards) >= n_shards:
                    break
            except StoreError:
                pass
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    manifest = Manifest.read(out)
    assert not manifest.complete, "the harvest finished before it could be killed"
    return len(manifest.shards)


def assert_stores_identical(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs"


def run_kill_resume(model: str, tmp_path: Path, tokens: int, kill_at: int, hooks: str) -> None:
    """Harvest straight through; harvest again, SIGKILL it, resume it; compare the bytes."""
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    command = collect_command(model, straight, tokens, hooks)
    subprocess.run(command, env=env, check=True, capture_output=True)
    command = collect_command(model, resumed, tokens, hooks)
    assert kill_after_shards(command, resumed, kill_at, env) >= kill_at
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert_stores_identical(straight, resumed)
    assert ActivationStore.open(resumed).manifest.complete


def test_killed_harvest_resumes_bitwise_identical(tiny_lm_folder, tmp_path):
    run_kill_resume(str(tiny_lm_folder), tmp_path, 64 * 2 * 300, 3, "blocks.*.hook_resid_post")
