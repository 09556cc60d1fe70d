"""Turn an external `[N, d]` array (.npy or .safetensors) into an activation store."""

from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from torch import Tensor

from saekit.provenance import file_sha256, provenance
from saekit.store.manifest import HookInfo, Manifest, StoreError
from saekit.store.reader import ActivationStore
from saekit.store.rows import acts_key
from saekit.store.writer import StoreWriter


def load_array(path: Path, key: str | None = None) -> Tensor:
    if path.suffix == ".npy":
        return torch.from_numpy(np.load(path, mmap_mode="r").copy())
    if path.suffix == ".safetensors":
        with safe_open(str(path), framework="pt") as f:
            keys = list(f.keys())
            if key is None and len(keys) != 1:
                raise StoreError(f"{path} holds tensors {keys}: name one with --key")
            return f.get_tensor(key or keys[0])
    raise StoreError(f"cannot import {path}: expected a .npy or .safetensors file")


def import_array(
    source: str | Path | Tensor,
    out: str | Path,
    hook: str = "imported",
    key: str | None = None,
    shard_rows: int = 65536,
) -> ActivationStore:
    """Write an `[N, d]` array as a store with one hook named `hook`."""
    array = source if isinstance(source, Tensor) else load_array(Path(source), key)
    if array.ndim != 2 or array.shape[0] == 0:
        raise StoreError(f"expected a non-empty [N, d] array, got shape {tuple(array.shape)}")
    if not array.is_floating_point():
        raise StoreError(f"expected floating-point activations, got {array.dtype}")
    origin = str(source) if not isinstance(source, Tensor) else "<tensor>"
    fp = file_sha256(Path(source)) if not isinstance(source, Tensor) else None
    dtype = str(array.dtype).removeprefix("torch.")
    manifest = Manifest(
        model="external",
        hooks={
            hook: HookInfo(
                module="external", site="external", shape=[array.shape[1]], d=array.shape[1]
            )
        },
        dtype=dtype,
        context_length=None,
        resume_key={"source": origin, "sha256": fp, "hook": hook, "shard_rows": shard_rows},
        config={"source": origin, "key": key, "hook": hook},
        provenance=provenance(),
    )
    writer = StoreWriter.open(out, manifest)
    for i, start in enumerate(range(0, array.shape[0], shard_rows)):
        if i < len(writer.manifest.shards):
            continue
        rows = array[start : start + shard_rows]
        n = rows.shape[0]
        tensors = {
            acts_key(hook): rows,
            "tokens": torch.full((n,), -1, dtype=torch.int64),
            "positions": torch.zeros(n, dtype=torch.int64),
            "windows": torch.arange(start, start + n, dtype=torch.int64),
        }
        nonfinite = {hook: int((~torch.isfinite(rows).all(dim=1)).sum())}
        writer.add_shard(tensors, i, 1, nonfinite, i)
    writer.finish()
    return ActivationStore.open(out, verify="none")
