"""Harvest writes each shard on a background thread while the next shard is computed: the
overlap really happens (the write of shard 0 waits, without deadlock, until the forward pass of
the next batch has started), the store is the same as with writes in line, and a failed write
is raised, not lost."""

import threading

import pytest

from saekit.store import StoreWriter
from tests.unit.test_harvest import small_harvest

TIMEOUT_S = 120.0


def test_the_next_forward_runs_while_a_shard_is_written(tiny_lm, tmp_path, monkeypatch):
    forward_after_submit = threading.Event()
    submitted = threading.Event()
    seen = {}
    capture, add_shard = tiny_lm.capture, StoreWriter.add_shard

    def watching_capture(*args, **kwargs):
        if submitted.is_set():
            forward_after_submit.set()
        return capture(*args, **kwargs)

    def slow_first_write(self, tensors, first_batch, *rest):
        if first_batch == 0:
            submitted.set()
            seen["overlapped"] = forward_after_submit.wait(TIMEOUT_S)
        return add_shard(self, tensors, first_batch, *rest)

    monkeypatch.setattr(tiny_lm, "capture", watching_capture)
    monkeypatch.setattr(StoreWriter, "add_shard", slow_first_write)
    store = small_harvest(tiny_lm, tmp_path / "overlapped")
    assert seen["overlapped"] is True
    assert len(store.manifest.shards) == 2


def test_overlapped_and_inline_writes_give_the_same_store(tiny_lm, tmp_path):
    a = small_harvest(tiny_lm, tmp_path / "a", overlap_writes=True)
    b = small_harvest(tiny_lm, tmp_path / "b", overlap_writes=False)
    assert [s.sha256 for s in a.manifest.shards] == [s.sha256 for s in b.manifest.shards]
    assert a.manifest.resume_key == b.manifest.resume_key  # the setting is not part of the data


def test_a_failed_background_write_is_raised(tiny_lm, tmp_path, monkeypatch):
    def failing(self, tensors, first_batch, *rest):
        raise OSError("disk full")

    monkeypatch.setattr(StoreWriter, "add_shard", failing)
    with pytest.raises(OSError, match="disk full"):
        small_harvest(tiny_lm, tmp_path / "failing")
