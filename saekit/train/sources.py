"""Where training batches come from: `{hook name: [batch, d]}` dicts, so several dictionaries
(several hooks, or a sweep) can train on one stream. A source can restart at any batch number,
which is what makes a resumed run see exactly the batches an uninterrupted run would have seen.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count, islice
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor

from saekit.artifacts import STORE_MANIFEST
from saekit.provenance import file_sha256, fingerprint
from saekit.store import ActivationStore
from saekit.store.holdout import HeldOut, hold_out

Batch = dict[str, Tensor]
ALL = slice(None)
"""Every row of each batch."""


class BatchSource(Protocol):
    hooks: list[str]
    """Hook names each batch holds (the first is the default input)."""

    def dim(self, hook: str) -> int: ...

    def fingerprint(self) -> str:
        """Identifies the data, so a checkpoint is never resumed on other data."""
        ...

    def batches(
        self, batch_size: int, seed: int, start: int = 0, part: slice = ALL
    ) -> Iterator[Batch]:
        """Batches forever from batch number `start`, deterministic in `seed`; only the rows
        `part` of each (a data-parallel rank's slice; sources read no more than they must)."""
        ...


@dataclass
class ArraySource:
    """In-memory `[N, d]` arrays, one per hook name (rows aligned)."""

    arrays: dict[str, Tensor]
    shuffle: bool = True
    """False: batches in row order (e.g. data already arranged in a benchmark's order)."""
    hooks: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.arrays, Tensor):
            self.arrays = {"array": self.arrays}
        rows = {a.shape[0] for a in self.arrays.values()}
        if any(a.ndim != 2 for a in self.arrays.values()) or len(rows) != 1 or 0 in rows:
            shapes = {k: tuple(v.shape) for k, v in self.arrays.items()}
            raise ValueError(f"expected non-empty [N, d] arrays with equal N, got {shapes}")
        self.hooks = list(self.arrays)

    def dim(self, hook: str) -> int:
        return self.arrays[hook].shape[1]

    def fingerprint(self) -> str:
        return fingerprint(
            {k: [tuple(v.shape), float(v[:64].double().sum())] for k, v in self.arrays.items()}
        )

    def batches(
        self, batch_size: int, seed: int, start: int = 0, part: slice = ALL
    ) -> Iterator[Batch]:
        n = next(iter(self.arrays.values())).shape[0]
        per_epoch = max(n // batch_size, 1)
        first_epoch = start // per_epoch
        for epoch in count(first_epoch):
            generator = torch.Generator().manual_seed(seed + epoch)
            perm = (
                torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
            )  # cpu: row order
            first = start - epoch * per_epoch if epoch == first_epoch else 0
            for b in range(first, per_epoch):
                rows = perm[b * batch_size : (b + 1) * batch_size][part]
                yield {k: v[rows] for k, v in self.arrays.items()}


@dataclass
class StoreSource:
    """Batches from an ActivationStore, shuffled across shards; pass p over the store uses
    seed + p. Restarting at batch `start` skips whole passes by arithmetic and, within a pass,
    plans the skipped windows from the manifest without reading them (a store with non-finite
    rows to drop replays instead)."""

    store: ActivationStore
    hooks: list[str] = field(default_factory=list)
    held_out: HeldOut | None = None
    """The store's rows kept out of training (the source's store is then a view without them)."""

    def __post_init__(self) -> None:
        self.hooks = self.store._check_hooks(self.hooks or self.store.hooks)

    def without_held_out(self, fraction: float) -> "StoreSource":
        """This source on the store's training windows only, the last `fraction` held out."""
        if fraction == 0 or self.held_out is not None:
            return self
        split = hold_out(self.store, fraction)
        return StoreSource(self.store.rows_between(0, split.first_row), self.hooks, split)

    def dim(self, hook: str) -> int:
        return self.store.d(hook)

    def fingerprint(self) -> str:
        """sha256 of the store's manifest (which holds every shard's sha256)."""
        return file_sha256(self.store.folder / STORE_MANIFEST)

    def batches(
        self, batch_size: int, seed: int, start: int = 0, part: slice = ALL
    ) -> Iterator[Batch]:
        if len(self.store) < batch_size:
            raise ValueError(f"the store has {len(self.store)} rows, fewer than one batch")
        per_pass = self.store.batches_per_pass(batch_size, self.hooks)
        if per_pass is None:  # replay: which rows are dropped decides where batches fall
            yield from islice(self._passes(batch_size, seed, 0, 0, part), start, None)
            return
        first_pass, skip = divmod(start, per_pass)
        yield from self._passes(batch_size, seed, first_pass, skip, part)

    def _passes(
        self, batch_size: int, seed: int, first_pass: int, skip: int, part: slice
    ) -> Iterator[Batch]:
        for epoch in count(first_pass):
            yield from self.store.batches(
                self.hooks,
                batch_size,
                seed=seed + epoch,
                drop_last=True,
                start=skip if epoch == first_pass else 0,
                part=part,
            )


def source_from_path(path: str | Path, hooks: list[str] | None = None) -> BatchSource:
    """A store folder, or an `[N, d]` `.npy` / `.safetensors` file."""
    path = Path(path)
    if path.is_dir():
        return StoreSource(ActivationStore.open(path, verify="size"), hooks or [])
    from saekit.store.importing import load_array

    return ArraySource({"array": load_array(path)})
