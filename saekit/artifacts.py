"""What saekit writes into its folders, named once, and the one atomic writer they all use.

A dictionary folder (`saekit train` / `saekit eval`) holds:
- `cfg.json` + `sae_weights.safetensors`: the dictionary, SAELens layout (sparsify folders
  hold `sae.safetensors` instead);
- `train_state.pt`: the resumable training state (torch.save, read with weights_only=True);
- `metrics.jsonl`: training metrics, one JSON object per logged step (`--log-to jsonl`);
- `eval.json`: the evaluation report; `feature_stats.safetensors`: per-latent statistics.

An activation store folder holds `manifest.json` and `shards/NNNNN.safetensors` (and, while a
multi-rank harvest runs, `manifest.rank-R.json`: the shards rank R has completed).
"""

import os
from collections.abc import Callable
from pathlib import Path

DICTIONARY_CONFIG = "cfg.json"
DICTIONARY_WEIGHTS = "sae_weights.safetensors"
SPARSIFY_WEIGHTS = "sae.safetensors"
TRAIN_STATE = "train_state.pt"
TRAIN_METRICS = "metrics.jsonl"
EVAL_REPORT = "eval.json"
FEATURE_STATS = "feature_stats.safetensors"
STORE_MANIFEST = "manifest.json"
STORE_SHARDS = "shards"


def store_part(rank: int | str) -> str:
    """The file in which torchrun rank `rank` (> 0) lists the shards it has completed."""
    return f"manifest.rank-{rank}.json"


def temporary_name(path: Path) -> Path:
    """Where `path` is written before it is renamed into place (hidden, per process)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def leftover_temporaries(path: Path) -> list[Path]:
    """Temporary files a killed writer of `path` left behind (any process)."""
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` writes the file's content to a temporary path, which is then fsynced and
    renamed over `path` (and the folder fsynced): readers and crashes see the old file or the
    new one, never a part. On any error the temporary file is removed and `path` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_bytes_atomic(path: str | Path, payload: bytes) -> None:
    write_atomic(path, lambda tmp: tmp.write_bytes(payload))


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())
