"""Create or resume a store, one complete shard at a time.

Several processes (torchrun ranks) may fill one store: shard files are named by their place in
the harvest, so writers never collide; the main process keeps `manifest.json` and every other
rank lists its complete shards in its own part file (`manifest.rank-R.json`), which the main
process merges into the manifest when the ranks are done, or when the store is next opened.
"""

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from torch import Tensor

from saekit.artifacts import (
    STORE_MANIFEST,
    STORE_SHARDS,
    leftover_temporaries,
    store_part,
    write_text_atomic,
)
from saekit.store.manifest import Manifest, ShardInfo, StoreError, describe_differences
from saekit.store.shard_io import write_shard

log = logging.getLogger(__name__)


def shard_file(number: int) -> str:
    """The store-relative path of the harvest's shard `number` (0, 1, … in harvest order)."""
    return f"{STORE_SHARDS}/{number:05d}.safetensors"


def merge_parts(folder: Path) -> Manifest:
    """Fold the ranks' part files into the manifest (atomically), then remove them."""
    manifest = Manifest.read(folder)
    parts = sorted(folder.glob(store_part("*")))
    listed = {shard.file for shard in manifest.shards}
    for part in parts:
        for shard in [ShardInfo(**s) for s in json.loads(part.read_text())]:
            if shard.file not in listed:
                manifest.shards.append(shard)
                listed.add(shard.file)
    if parts:
        manifest.shards.sort(key=lambda shard: shard.first_batch)
        manifest.write(folder)
        for part in parts:
            part.unlink()
    return manifest


class StoreWriter:
    """Appends shards to a store folder and keeps its manifest (or, on a rank other than the
    main one, its part file) in step."""

    def __init__(self, folder: Path, manifest: Manifest, rank: int = 0):
        self.folder = folder
        self.manifest = manifest
        self.rank = rank
        self.added: list[ShardInfo] = []

    @classmethod
    def attach(cls, folder: str | Path, rank: int) -> "StoreWriter":
        """Write rank `rank`'s shards into the store the main process has opened (`open`)."""
        return cls(Path(folder), Manifest.read(Path(folder)), rank)

    @classmethod
    def open(cls, folder: str | Path, manifest: Manifest) -> "StoreWriter":
        """Start a new store in `folder`, or resume the one there if it was made the same way."""
        folder = Path(folder)
        if (folder / STORE_MANIFEST).exists():
            return cls._resume(folder, manifest)
        if folder.exists() and any(folder.iterdir()):
            raise StoreError(
                f"{folder} is not empty and holds no activation store ({STORE_MANIFEST} missing): "
                "choose a new or empty output folder"
            )
        (folder / STORE_SHARDS).mkdir(parents=True, exist_ok=True)
        manifest.write(folder)
        return cls(folder, manifest)

    @classmethod
    def _resume(cls, folder: Path, requested: Manifest) -> "StoreWriter":
        existing = Manifest.read(folder)
        differences = describe_differences(existing.resume_key, requested.resume_key)
        if not differences:
            existing = merge_parts(folder)
        if differences:
            raise StoreError(
                f"{folder} holds a store made differently, so it cannot be resumed:\n  "
                + "\n  ".join(differences)
                + "\nUse a new output folder, or run with the store's settings."
            )
        # whatever a killed run was writing: our .tmp files, safetensors' own temporary files,
        # a shard renamed just before the manifest listed it. shards/ holds only listed shards.
        listed = {Path(shard.file).name for shard in existing.shards}
        leftovers = [p for p in (folder / STORE_SHARDS).iterdir() if p.name not in listed]
        temporaries = [
            *leftover_temporaries(folder / STORE_MANIFEST),
            *leftover_temporaries(folder / store_part("*")),
        ]
        for leftover in [*leftovers, *temporaries]:
            leftover.unlink()
        for shard in existing.shards:
            path = folder / shard.file
            if not path.is_file() or path.stat().st_size != shard.bytes:
                raise StoreError(f"shard {path} is missing or truncated: the store is damaged")
        if existing.shards:
            log.info("resuming %s after %d complete shards", folder, len(existing.shards))
        return cls(folder, existing)

    def add_shard(
        self,
        tensors: dict[str, Tensor],
        first_batch: int,
        n_batches: int,
        nonfinite: dict,
        number: int,
    ) -> ShardInfo:
        """Write shard `number` (batches `first_batch …` of the harvest) and list it."""
        rel = shard_file(number)
        size, digest = write_shard(self.folder / rel, tensors)
        rows = next(iter(tensors.values())).shape[0]
        shard = ShardInfo(rel, rows, size, digest, first_batch, n_batches, nonfinite)
        self.manifest.shards.append(shard)
        self.manifest.shards.sort(key=lambda s: s.first_batch)
        self.added.append(shard)
        if self.rank == 0:
            self.manifest.write(self.folder)
        else:
            listing = json.dumps([asdict(s) for s in self.added], indent=1)
            write_text_atomic(self.folder / store_part(self.rank), listing)
        return shard

    def finish(self) -> Manifest:
        """Mark the store complete (main process; merges the other ranks' shards first)."""
        self.manifest = merge_parts(self.folder)
        self.manifest.complete = True
        self.manifest.write(self.folder)
        return self.manifest


class OverlappedWriter:
    """Writes each shard on a background thread while the caller computes the next one (a GPU's
    forward passes outrun the disk). At most one shard is in flight and shards land in order,
    each as atomically as `StoreWriter.add_shard` makes it; a failed write is raised at the next
    `add` or on leaving the block. `enabled=False` writes in the caller's thread."""

    def __init__(self, writer: StoreWriter, enabled: bool = True):
        self.writer = writer
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="shard-writer") if enabled else None
        self.pending: Future | None = None

    def add(self, tensors: dict[str, Tensor], *shard) -> None:
        """`StoreWriter.add_shard(tensors, *shard)`, in the background when enabled."""
        self.wait()
        if self.pool is None:
            self.writer.add_shard(tensors, *shard)
        else:
            self.pending = self.pool.submit(self.writer.add_shard, tensors, *shard)

    def wait(self) -> None:
        """Block until the shard in flight (if any) is on disk; raise its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> "OverlappedWriter":
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.wait()  # a complete shard in flight lands even when the caller failed
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
