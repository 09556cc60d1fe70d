"""Seeking: a store's batch iterator started at batch s yields exactly what the full iterator
yields from s on, without reading the windows it skips; a training source does the same across
passes. A store with non-finite rows falls back to replaying (and still agrees)."""

from itertools import islice

import pytest
import torch

from saekit.store.importing import import_array
from saekit.train import StoreSource


@pytest.fixture
def store(tmp_path):
    rows = torch.arange(1030 * 3, dtype=torch.float32).view(1030, 3)
    return import_array(rows, tmp_path / "store", hook="h", shard_rows=100)


def _same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x["h"], y["h"]) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_starting_at_any_batch_matches_the_full_iterator(store, shuffle, drop_last):
    options = dict(batch_size=64, shuffle=shuffle, seed=3, shards_in_memory=2, drop_last=drop_last)
    full = list(store.batches(**options))
    for start in (0, 1, 5, 6, 7, 13, len(full) - 1, len(full), len(full) + 3):
        assert _same(list(store.batches(start=start, **options)), full[start:]), start


def test_skipped_windows_are_not_read(store, monkeypatch):
    reads = []
    original = store.shard
    monkeypatch.setattr(store, "shard", lambda i: reads.append(i) or original(i))
    options = dict(batch_size=64, seed=1, shards_in_memory=2)
    n = len(list(store.batches(**options)))
    reads.clear()
    list(store.batches(start=n - 2, **options))
    seeked = len(reads)
    reads.clear()
    list(islice(store.batches(**options), n - 2, None))  # a replay reads every shard
    assert len(reads) == len(store.manifest.shards) == 11
    assert 0 < seeked <= 5  # the last window and the shards its carried rows came from


def test_a_source_resumes_across_passes_without_replay(store, monkeypatch):
    source = StoreSource(store)
    straight = list(islice(source.batches(100, seed=7), 40))  # 10 full batches per pass
    for start in (0, 9, 10, 23, 39):
        assert _same(
            list(islice(source.batches(100, seed=7, start=start), 40 - start)), straight[start:]
        ), start


def test_a_store_with_nonfinite_rows_replays_and_still_agrees(tmp_path):
    rows = torch.randn(700, 4)
    rows[[3, 250, 251, 600]] = float("nan")
    store = import_array(rows, tmp_path / "nan", hook="h", shard_rows=100)
    assert store.batches_per_pass(50) is None
    source = StoreSource(store)
    straight = list(islice(source.batches(50, seed=2), 30))
    assert _same(list(islice(source.batches(50, seed=2, start=17), 13)), straight[17:])


@pytest.mark.parametrize("start", [0, 3, 14])
def test_each_rank_reads_only_its_part_of_every_batch(store, monkeypatch, start):
    options = dict(batch_size=64, seed=5, shards_in_memory=2, drop_last=True, start=start)
    full = list(store.batches(**options))
    requested = []
    original = store.rows
    monkeypatch.setattr(store, "rows", lambda i, h: requested.append(len(i)) or original(i, h))
    halves = [list(store.batches(part=slice(r * 32, (r + 1) * 32), **options)) for r in (0, 1)]
    joined = [{"h": torch.cat([a["h"], b["h"]])} for a, b in zip(*halves, strict=True)]
    assert _same(joined, full)
    assert set(requested) == {32}  # no row outside a rank's part is read
    with pytest.raises(ValueError, match="drop_last"):
        next(store.batches(batch_size=64, part=slice(0, 32)))


def test_a_source_with_nonfinite_rows_gives_each_rank_its_part(tmp_path):
    rows = torch.randn(700, 4)
    rows[[3, 250, 251, 600]] = float("nan")
    source = StoreSource(import_array(rows, tmp_path / "nan", hook="h", shard_rows=100))
    full = list(islice(source.batches(50, seed=2, start=4), 12))
    part = list(islice(source.batches(50, seed=2, start=4, part=slice(25, 50)), 12))
    assert _same(part, [{"h": b["h"][25:]} for b in full])
