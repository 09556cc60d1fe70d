import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from saekit.artifacts import STORE_MANIFEST
from saekit.store import ActivationStore, StoreError, shard_io
from saekit.store.importing import import_array


@pytest.fixture
def array():
    return torch.randn(1000, 8)


def test_import_round_trip_and_batches_cover_every_row_once(tmp_path, array):
    np.save(tmp_path / "a.npy", array.numpy())
    store = import_array(tmp_path / "a.npy", tmp_path / "store", hook="h", shard_rows=128)
    assert len(store.manifest.shards) == 8 and len(store) == 1000
    torch.testing.assert_close(store.activations("h"), array, rtol=0, atol=0)
    batches = list(store.hook_batches("h", batch_size=100, seed=3, shards_in_memory=2))
    assert all(b.shape == (100, 8) for b in batches)
    seen = torch.cat(batches)
    assert not torch.equal(seen, array)  # shuffled
    assert torch.equal(seen[seen[:, 0].argsort()], array[array[:, 0].argsort()])


def test_batches_are_seeded(tmp_path, array):
    store = import_array(array, tmp_path / "s", hook="h", shard_rows=300)
    first = [b.clone() for b in store.hook_batches("h", batch_size=64, seed=1)]
    again = list(store.hook_batches("h", batch_size=64, seed=1))
    other = list(store.hook_batches("h", batch_size=64, seed=2))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])
    assert sum(len(b) for b in first) == 1000  # last partial batch kept


def test_safetensors_import_needs_key_when_ambiguous(tmp_path, array):
    save_file({"x": array, "y": array.clone()}, tmp_path / "two.safetensors")
    with pytest.raises(StoreError, match="--key"):
        import_array(tmp_path / "two.safetensors", tmp_path / "s")
    store = import_array(tmp_path / "two.safetensors", tmp_path / "s", key="y")
    assert len(store) == 1000


def test_corrupted_and_truncated_shards_are_named(tmp_path, array):
    store = import_array(array, tmp_path / "s", shard_rows=500)
    shard = tmp_path / "s" / store.manifest.shards[1].file
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="00001.safetensors is corrupted"):
        ActivationStore.open(tmp_path / "s")
    shard.write_bytes(bytes(data[:-100]))
    with pytest.raises(StoreError, match="00001.safetensors is truncated"):
        ActivationStore.open(tmp_path / "s", verify="size")


def test_nonfinite_rows_counted_and_dropped(tmp_path, array):
    array[[3, 500]] = float("nan")
    array[7, 2] = float("inf")
    store = import_array(array, tmp_path / "s", shard_rows=400)
    assert store.manifest.nonfinite() == {"imported": 3}
    rows = torch.cat(list(store.hook_batches("imported", batch_size=128)))
    assert rows.shape[0] == 997 and torch.isfinite(rows).all()
    kept = torch.cat(list(store.hook_batches("imported", batch_size=128, drop_nonfinite=False)))
    assert kept.shape[0] == 1000


def test_folder_with_other_content_is_refused(tmp_path, array):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="holds no activation store"):
        import_array(array, tmp_path / "s")
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"


def test_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="not an activation store"):
        ActivationStore.open(tmp_path)


def test_write_error_leaves_no_shard_and_manifest_unchanged(tmp_path, array, monkeypatch):
    store = import_array(array[:500], tmp_path / "s", shard_rows=250)
    manifest_before = (tmp_path / "s" / STORE_MANIFEST).read_bytes()
    real_save = shard_io.save_file

    def full_disk(tensors, path):
        real_save(tensors, path)  # a partial file exists, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shard_io, "save_file", full_disk)
    writer_store = tmp_path / "t"
    with pytest.raises(OSError, match="No space"):
        import_array(array, writer_store, shard_rows=250)
    assert sorted(p.name for p in (writer_store / "shards").iterdir()) == []
    assert ActivationStore.open(writer_store).manifest.shards == []
    assert (tmp_path / "s" / STORE_MANIFEST).read_bytes() == manifest_before
    assert len(store) == 500


def test_unknown_hook_in_store(tmp_path, array):
    store = import_array(array, tmp_path / "s", hook="h")
    with pytest.raises(KeyError, match="holds \\['h'\\]"):
        next(store.hook_batches("nope"))
