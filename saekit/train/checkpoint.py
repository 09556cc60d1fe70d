"""Resumable training state: everything a run depends on, in one `torch.save` file read back
with `weights_only=True` (no pickled code)."""

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT = "train_state.pt"


def save_checkpoint(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{CHECKPOINT}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, folder / CHECKPOINT)


def load_checkpoint(folder: Path) -> dict[str, Any] | None:
    path = folder / CHECKPOINT
    if not path.is_file():
        return None
    return torch.load(path, weights_only=True, map_location="cpu")
