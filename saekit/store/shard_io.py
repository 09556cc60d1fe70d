"""Shard files: safetensors written under a temporary name, read back memory-mapped."""

import json
import mmap
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor

from saekit.artifacts import write_atomic
from saekit.provenance import file_sha256

SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


def write_shard(path: Path, tensors: dict[str, Tensor]) -> tuple[int, str]:
    """Write `tensors` to `path` atomically; return (bytes, sha256). On any error (a full disk,
    say) nothing is left at `path` and the temporary file is removed."""
    measured = {}

    def write(tmp: Path) -> None:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
        measured["size"], measured["sha256"] = tmp.stat().st_size, file_sha256(tmp)

    write_atomic(path, write)
    return measured["size"], measured["sha256"]


def read_shard(path: Path) -> dict[str, Tensor]:
    """All tensors of a shard, zero-copy over a private memory map (pages load on first use)."""
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    header_len = int.from_bytes(mapped[:8], "little")
    header = json.loads(mapped[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // dtype.itemsize
        if count == 0:
            tensors[key] = torch.empty(info["shape"], dtype=dtype)
            continue
        flat = torch.frombuffer(mapped, dtype=dtype, count=count, offset=base + begin)
        tensors[key] = flat.view(info["shape"])
    return tensors
