"""Create or resume a store, one complete shard at a time."""

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from torch import Tensor

from saekit.artifacts import STORE_MANIFEST, STORE_SHARDS, leftover_temporaries
from saekit.store.manifest import Manifest, ShardInfo, StoreError, describe_differences
from saekit.store.shard_io import write_shard

log = logging.getLogger(__name__)


class StoreWriter:
    """Appends shards to a store folder and keeps its manifest in step."""

    def __init__(self, folder: Path, manifest: Manifest):
        self.folder = folder
        self.manifest = manifest

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
        for leftover in [*leftovers, *leftover_temporaries(folder / STORE_MANIFEST)]:
            leftover.unlink()
        for shard in existing.shards:
            path = folder / shard.file
            if not path.is_file() or path.stat().st_size != shard.bytes:
                raise StoreError(f"shard {path} is missing or truncated: the store is damaged")
        if existing.shards:
            log.info("resuming %s after %d complete shards", folder, len(existing.shards))
        return cls(folder, existing)

    @property
    def batches_done(self) -> int:
        return self.manifest.batches_done

    def add_shard(
        self, tensors: dict[str, Tensor], first_batch: int, n_batches: int, nonfinite: dict
    ) -> ShardInfo:
        rel = f"{STORE_SHARDS}/{len(self.manifest.shards):05d}.safetensors"
        size, digest = write_shard(self.folder / rel, tensors)
        rows = next(iter(tensors.values())).shape[0]
        shard = ShardInfo(rel, rows, size, digest, first_batch, n_batches, nonfinite)
        self.manifest.shards.append(shard)
        self.manifest.write(self.folder)
        return shard

    def finish(self) -> Manifest:
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

    def add(self, tensors: dict[str, Tensor], first_batch: int, n_batches: int, nonfinite: dict):
        self.wait()
        if self.pool is None:
            self.writer.add_shard(tensors, first_batch, n_batches, nonfinite)
        else:
            self.pending = self.pool.submit(
                self.writer.add_shard, tensors, first_batch, n_batches, nonfinite
            )

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
