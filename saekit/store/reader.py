"""Read a store back: verified on open, memory-mapped, with a seeded shuffled batch iterator."""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from saekit.provenance import file_sha256
from saekit.store.manifest import Manifest, StoreError
from saekit.store.rows import acts_key
from saekit.store.shard_io import read_shard

log = logging.getLogger(__name__)

Verify = Literal["sha256", "size", "none"]


class ActivationStore:
    """A harvested store. Rows are aligned across hooks: row i of every hook is the same token
    (or image position), described by `tokens`, `positions` and `windows` (window index)."""

    def __init__(self, folder: Path, manifest: Manifest, local: list[slice] | None = None):
        self.folder = folder
        self.manifest = manifest
        self._local = local
        """In a view (`rows_between`), the rows of each listed shard that belong to it."""

    @classmethod
    def open(cls, folder: str | Path, verify: Verify = "sha256") -> "ActivationStore":
        """Open a store; every shard is checked against the manifest (`size`, or `sha256` too)
        and a damaged one is named."""
        folder = Path(folder)
        manifest = Manifest.read(folder)
        if not manifest.complete:
            log.warning(
                "%s is incomplete (harvest still running or stopped): %d shards readable",
                folder,
                len(manifest.shards),
            )
        store = cls(folder, manifest)
        if verify != "none":
            for shard in manifest.shards:
                store._verify(shard, verify)
        return store

    def _verify(self, shard, verify: Verify) -> None:
        path = self.folder / shard.file
        if not path.is_file():
            raise StoreError(f"shard {path} is missing")
        if path.stat().st_size != shard.bytes:
            raise StoreError(
                f"shard {path} is truncated or altered: {path.stat().st_size} bytes, "
                f"manifest says {shard.bytes}"
            )
        if verify == "sha256" and file_sha256(path) != shard.sha256:
            raise StoreError(f"shard {path} is corrupted: its sha256 differs from the manifest")

    @property
    def hooks(self) -> list[str]:
        return list(self.manifest.hooks)

    def __len__(self) -> int:
        return self.manifest.rows

    def d(self, hook: str) -> int:
        return self.manifest.hooks[hook].d

    def shard(self, index: int) -> dict[str, Tensor]:
        tensors = read_shard(self.folder / self.manifest.shards[index].file)
        if self._local is None:
            return tensors
        return {k: v[self._local[index]] for k, v in tensors.items()}

    def rows_between(self, start: int, stop: int) -> "ActivationStore":
        """Rows `start .. stop - 1` as a store of their own: a view over the same shard files
        (nothing is copied) that every reader of a store accepts."""
        if not 0 <= start <= stop <= len(self):
            raise ValueError(f"rows {start}..{stop} are not within the store's {len(self)}")
        shards, local = [], []
        for index, shard in enumerate(self.manifest.shards):
            first, end = int(self._shard_starts[index]), int(self._shard_ends[index])
            low, high = max(start, first), min(stop, end)
            if low < high:
                offset = self._local[index].start if self._local else 0
                shards.append(replace(shard, rows=high - low))
                local.append(slice(offset + low - first, offset + high - first))
        return ActivationStore(self.folder, replace(self.manifest, shards=shards), local)

    def _column(self, key: str) -> Tensor:
        return torch.cat([self.shard(i)[key] for i in range(len(self.manifest.shards))])

    def activations(self, hook: str) -> Tensor:
        """All rows of one hook, `[rows, d]` (read into memory)."""
        return self._column(acts_key(self._check_hooks([hook])[0]))

    @cached_property
    def tokens(self) -> Tensor:
        return self._column("tokens")

    @cached_property
    def positions(self) -> Tensor:
        return self._column("positions")

    @cached_property
    def windows(self) -> Tensor:
        return self._column("windows")

    def _check_hooks(self, hooks: Sequence[str]) -> list[str]:
        unknown = [h for h in hooks if h not in self.manifest.hooks]
        if unknown:
            raise KeyError(f"store has no hook {unknown}; it holds {self.hooks}")
        return list(hooks)

    def hook_batches(self, hook: str, batch_size: int = 4096, **options) -> Iterator[Tensor]:
        """Batches of one hook's rows, `[batch, d]`; options as for `batches`."""
        for batch in self.batches([hook], batch_size, **options):
            yield batch[hook]

    def batches(
        self,
        hooks: Sequence[str] | None = None,
        batch_size: int = 4096,
        shuffle: bool = True,
        seed: int = 0,
        shards_in_memory: int = 8,
        drop_nonfinite: bool = True,
        drop_last: bool = False,
        start: int = 0,
        part: slice | None = None,
    ) -> Iterator[dict[str, Tensor]]:
        """Batches of aligned rows, `{hook: [batch, d]}` (default: all hooks).

        Shuffling is seeded and spans shards: shards are visited in a random order,
        `shards_in_memory` at a time, and rows are shuffled within that window (plus the rows
        left over from the previous one), so memory stays bounded by the window.

        `start` skips that many batches. When no row has to be dropped as non-finite, the
        skipped windows are planned from the manifest's row counts and never read (a resumed
        run costs no replay); otherwise they are read and dropped.

        `part` (a data-parallel rank's slice, with `drop_last`) yields only those rows of each
        batch; when no row has to be dropped, only they are read from the shards.
        """
        if part is not None and not drop_last:
            raise ValueError("reading a part of each batch needs drop_last=True")
        if isinstance(hooks, str):
            raise TypeError(f"batches takes a list of hooks: [{hooks!r}], or use hook_batches")
        names = self._check_hooks(list(hooks or self.hooks))
        rng = torch.Generator().manual_seed(seed)
        n_shards = len(self.manifest.shards)
        order = torch.randperm(n_shards, generator=rng) if shuffle else torch.arange(n_shards)
        plannable = not (drop_nonfinite and self._has_nonfinite(names))
        carry: dict[str, Tensor] = {}
        carry_rows: Tensor | None = None  # rows carried out of windows skipped unread
        done = 0
        for first in range(0, n_shards, shards_in_memory):
            window = order[first : first + shards_in_memory]
            if plannable and (done < start or part is not None):
                rows = torch.cat(
                    ([] if carry_rows is None else [carry_rows])
                    + [self._rows_of(int(i)) for i in window]
                )
                if shuffle:
                    rows = rows[torch.randperm(len(rows), generator=rng)]
                full = len(rows) - len(rows) % batch_size
                if done + full // batch_size <= start:
                    done += full // batch_size
                    carry_rows = rows[full:]
                    continue
                if part is not None:
                    for b in range(max(start - done, 0) * batch_size, full, batch_size):
                        yield self.rows(rows[b : b + batch_size][part], names)
                    done += full // batch_size
                    carry_rows = rows[full:]
                    continue
                pool, carry_rows = self.rows(rows, names), None
            else:
                if carry_rows is not None:
                    carry, carry_rows = self.rows(carry_rows, names), None
                pool = self._load_pool(window, names, carry)
                if drop_nonfinite:
                    pool = _drop_nonfinite(pool)
                if shuffle:
                    perm = torch.randperm(next(iter(pool.values())).shape[0], generator=rng)
                    pool = {k: v[perm] for k, v in pool.items()}
            n = next(iter(pool.values())).shape[0]
            full = n - n % batch_size
            for b in range(0, full, batch_size):
                if done >= start:
                    yield {k: v[b : b + batch_size][part or slice(None)] for k, v in pool.items()}
                done += 1
            carry = {k: v[full:] for k, v in pool.items()}
        if carry_rows is not None and not drop_last:
            carry = self.rows(carry_rows, names)
        if carry and next(iter(carry.values())).shape[0] and not drop_last and done >= start:
            yield carry

    def batches_per_pass(self, batch_size: int, hooks: Sequence[str] | None = None) -> int | None:
        """Full batches in one pass of `batches(..., drop_last=True)`; None when non-finite
        rows will be dropped (the count then depends on which)."""
        if self._has_nonfinite(self._check_hooks(list(hooks or self.hooks))):
            return None
        return len(self) // batch_size

    def rows(self, indices: Tensor, hooks: Sequence[str]) -> dict[str, Tensor]:
        """`{hook: [len(indices), d]}` the store rows at `indices`, in that order (only those
        rows are read from the memory-mapped shards that hold them)."""
        shard_of = torch.searchsorted(self._shard_ends, indices, right=True)
        local = indices - self._shard_starts[shard_of]
        out: dict[str, Tensor] = {}
        for shard in shard_of.unique().tolist():
            here = (shard_of == shard).nonzero().squeeze(1)
            tensors = self.shard(shard)
            for name in hooks:
                source = tensors[acts_key(name)]
                if name not in out:
                    out[name] = source.new_empty((len(indices), *source.shape[1:]))
                out[name][here] = source[local[here]]
        return out

    def _rows_of(self, shard: int) -> Tensor:
        return torch.arange(int(self._shard_starts[shard]), int(self._shard_ends[shard]))

    @cached_property
    def _shard_ends(self) -> Tensor:
        """One past each shard's last row, as store rows."""
        return torch.cumsum(torch.tensor([s.rows for s in self.manifest.shards]), 0)

    @cached_property
    def _shard_starts(self) -> Tensor:
        """Each shard's first row, as store rows."""
        return torch.cat([self._shard_ends.new_zeros(1), self._shard_ends[:-1]])

    def _has_nonfinite(self, hooks: Sequence[str]) -> bool:
        return any(self.manifest.nonfinite()[h] for h in hooks)

    def _load_pool(
        self, shard_ids: Tensor, names: list[str], carry: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        shards = [self.shard(int(i)) for i in shard_ids]
        return {
            name: torch.cat(([carry[name]] if carry else []) + [s[acts_key(name)] for s in shards])
            for name in names
        }


def _drop_nonfinite(pool: dict[str, Tensor]) -> dict[str, Tensor]:
    finite = torch.stack([torch.isfinite(v).all(dim=1) for v in pool.values()]).all(dim=0)
    if bool(finite.all()):
        return pool
    return {k: v[finite] for k, v in pool.items()}
