import torch

from saekit.artifacts import STORE_MANIFEST
from saekit.store.importing import import_array


def test_resume_removes_files_a_killed_run_was_writing(tmp_path):
    array = torch.randn(600, 4)
    store = import_array(array, tmp_path / "s", shard_rows=200)
    (tmp_path / "s" / "shards" / "00003.safetensors.tmp").write_bytes(b"half a shard")
    (tmp_path / "s" / "shards" / ".tmpEuAPTj").write_bytes(b"safetensors' own temp file")
    (tmp_path / "s" / "shards" / "00007.safetensors").write_bytes(b"renamed, never listed")
    (tmp_path / "s" / f".{STORE_MANIFEST}.tmp-12345").write_bytes(b"{half")
    again = import_array(array, tmp_path / "s", shard_rows=200)
    names = sorted(p.name for p in (tmp_path / "s").rglob("*") if p.is_file())
    assert names == ["00000.safetensors", "00001.safetensors", "00002.safetensors", STORE_MANIFEST]
    assert torch.equal(again.activations("imported"), store.activations("imported"))
