"""Resumable training state: everything a run depends on, in one `torch.save` file read back
with `weights_only=True` (no pickled code)."""

from pathlib import Path
from typing import Any

import torch

from saekit.artifacts import TRAIN_STATE, write_atomic


def save_checkpoint(folder: Path, state: dict[str, Any]) -> None:
    write_atomic(folder / TRAIN_STATE, lambda tmp: torch.save(state, tmp))


def load_checkpoint(folder: Path) -> dict[str, Any] | None:
    path = folder / TRAIN_STATE
    if not path.is_file():
        return None
    return torch.load(path, weights_only=True, map_location="cpu")
