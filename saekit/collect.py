"""model + data + hook points -> ActivationStore, crash-safe and resumable.

Batches are fixed by the config (the same windows in the same order every run) and every shard
holds whole batches, so a killed harvest resumes with the shards that are missing and produces
the same bytes as an uninterrupted run (CPU, fp32, same thread count).

Under torchrun the ranks share the missing shards out (shard i of those left goes to rank
i mod world) and write them into the one store; the result is the store one process would have
written.
"""

import logging
import math
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor
from tqdm.auto import tqdm

from saekit.collect_inputs import HarvestInputs, image_inputs, text_inputs
from saekit.data.reference import data_reference
from saekit.data.text import DEFAULT_CORPUS, BosPolicy
from saekit.distributed import SINGLE_PROCESS, Distributed
from saekit.hooks import HookPoint
from saekit.models import DEFAULT_MODEL, HookedModel, LanguageModel, load_model
from saekit.provenance import provenance
from saekit.store import ActivationStore, Manifest, StoreError, StoreWriter
from saekit.store.manifest import HookInfo
from saekit.store.rows import acts_key, batch_rows
from saekit.store.writer import OverlappedWriter

log = logging.getLogger(__name__)
StoreDtype = Literal["float32", "float16", "bfloat16"]


@dataclass
class CollectConfig:
    """How to harvest activations (`saekit collect`)."""

    model: str = DEFAULT_MODEL
    """Model spec: `smollm2-135m`, `gemma3-270m`, `mobilenet-v2`, a .gguf file, a folder or a
    hub id."""
    hooks: list[str] = field(default_factory=lambda: ["blocks.6.hook_resid_post"])
    """Hook names or globs: TransformerLens names (`blocks.6.hook_resid_post`) or module paths."""
    data: str = DEFAULT_CORPUS
    """Text corpus (`wiki-offline`, .txt/.jsonl file, folder, dataset name) or, for vision
    models, an image source (`skimage`, `sklearn`, `digits`, a folder)."""
    tokens: int = 50_000
    """Token positions to run through the model (rounded up to whole windows)."""
    context_length: int = 128
    batch_size: int = 16
    """Windows (or images) per forward pass."""
    dtype: StoreDtype = "float32"
    """Storage dtype of the activations."""
    bos: BosPolicy = "prepend"
    """`prepend`: every window starts with BOS; `none`: raw corpus tokens only."""
    exclude_special: bool = True
    """Leave BOS/EOS/special-token positions out of the store (their activations are outliers)."""
    seed: int = 0
    """Shuffles the corpus documents."""
    shard_batches: int = 16
    """Batches per shard file."""
    stop_early: bool = True
    """Stop each forward pass after the last hooked module."""
    overlap_writes: bool = True
    """Write each shard on a background thread while the next one is computed (same files,
    same atomicity; at most one shard in flight)."""

    def __post_init__(self) -> None:
        for name in ("tokens", "context_length", "batch_size", "shard_batches"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.dtype not in ("float32", "float16", "bfloat16"):
            raise ValueError(f"dtype must be float32, float16 or bfloat16, not {self.dtype!r}")
        if self.bos not in ("prepend", "none"):
            raise ValueError(f"bos must be 'prepend' or 'none', not {self.bos!r}")
        self.data = data_reference(self.data)
        if isinstance(self.hooks, str):
            self.hooks = [self.hooks]


def _inputs_for(model: HookedModel, data, config: CollectConfig) -> HarvestInputs:
    if isinstance(model, LanguageModel):
        return text_inputs(
            model,
            data,
            config.tokens,
            config.context_length,
            config.bos,
            config.exclude_special,
            config.seed,
        )
    return image_inputs(model, data)


def _resume_key(model: HookedModel, points: list[HookPoint], data: HarvestInputs, cfg) -> dict:
    key = {
        k: v
        for k, v in asdict(cfg).items()
        if k not in ("hooks", "stop_early", "overlap_writes")  # they do not change the rows
    }
    key["hooks"] = {p.name: p.module for p in points}
    key["data_fingerprint"] = data.fingerprint
    if isinstance(model, LanguageModel):
        key["tokenizer_fingerprint"] = model.tokenizer_fingerprint()
    return key


def _check_aligned(probe: dict[str, Tensor]) -> None:
    """Rows are aligned across hooks, so every hook must have the same number of positions."""
    lengths = {name: value.shape[1] for name, value in probe.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"hook points with different numbers of positions cannot share a store: {lengths}; "
            "harvest them into separate stores"
        )


def _check_disk(out: Path, bytes_needed: int) -> None:
    probe = out if out.exists() else next(p for p in out.parents if p.exists())
    free = shutil.disk_usage(probe).free
    if bytes_needed > free:
        raise StoreError(
            f"this harvest needs about {bytes_needed / 1e9:.2f} GB but {probe} has only "
            f"{free / 1e9:.2f} GB free: lower --tokens, use --dtype float16 or another --out"
        )


def harvest(
    model: HookedModel | str | None = None,
    data: str | Sequence | None = None,
    hooks: str | Sequence[str] | None = None,
    out: str | Path = "acts",
    **overrides,
) -> ActivationStore:
    """Harvest activations at `hooks` into a store at `out` (resuming one left there).

    `overrides` are `CollectConfig` fields (`tokens`, `dtype`, `batch_size`, `context_length`…).
    `data` may be a corpus/image source name or a list of documents / image tensors.
    """
    config = CollectConfig(
        model=model if isinstance(model, str) else (model.spec if model else DEFAULT_MODEL),
        hooks=[hooks] if isinstance(hooks, str) else list(hooks or CollectConfig().hooks),
        data=data if isinstance(data, str) else (CollectConfig.data if data is None else "<list>"),
        **overrides,
    )
    model = load_model(config.model) if not isinstance(model, HookedModel) else model
    return run_collect(model, config, data if data is not None else config.data, Path(out))


def run_collect(
    model: HookedModel,
    config: CollectConfig,
    data,
    out: Path,
    distributed: Distributed = SINGLE_PROCESS,
) -> ActivationStore:
    """Harvest into `out` (resuming the store there); with `distributed` (from
    `process_group_from_env()`), every rank runs this and harvests its share of the shards."""
    points = model.resolve_hooks(config.hooks)
    inputs = _inputs_for(model, data, config)
    probe = model.capture(inputs.inputs[:1], points, config.stop_early)
    _check_aligned(probe)
    hook_infos = {
        p.name: HookInfo(
            p.module, p.site, list(probe[p.name].shape[2:]), probe[p.name][0, 0].numel()
        )
        for p in points
    }
    manifest = Manifest(
        model=config.model,
        hooks=hook_infos,
        dtype=config.dtype,
        context_length=config.context_length if inputs.tokens is not None else None,
        resume_key=_resume_key(model, points, inputs, config),
        config=asdict(config),
        provenance=provenance(),
        replaced_surrogates=inputs.replaced_surrogates,
    )
    writer = _open_writer(out, manifest, distributed)
    if writer.manifest.complete:
        log.info("%s is already complete", out)
        return ActivationStore.open(out, verify="size")
    _write_shards(model, points, inputs, config, writer, distributed)
    distributed.barrier()  # every rank's shards are on disk
    if distributed.is_main:
        writer.finish()
    distributed.barrier()  # the others return once the manifest is complete
    return ActivationStore.open(out, verify="none")


def _open_writer(out: Path, manifest: Manifest, distributed: Distributed) -> StoreWriter:
    """The main process creates or resumes (and tidies) the store; the other ranks attach to
    it once that is done. A refusal on the main process stops every rank."""
    error: StoreError | None = None
    if distributed.is_main:
        try:
            writer = StoreWriter.open(out, manifest)
        except StoreError as err:
            error = err
    if not distributed.all_ok(error is None):
        raise error or StoreError(f"rank 0 could not open the store {out}: see its error")
    return writer if distributed.is_main else StoreWriter.attach(out, distributed.rank)


def missing_shards(manifest: Manifest, n_batches: int, shard_batches: int) -> list[int]:
    """Numbers of the shards (of `shard_batches` batches each) the store does not list yet."""
    done = {shard.first_batch // shard_batches for shard in manifest.shards}
    return [i for i in range(math.ceil(n_batches / shard_batches)) if i not in done]


def _write_shards(
    model, points, inputs: HarvestInputs, config, writer: StoreWriter, distributed: Distributed
) -> None:
    n_items = inputs.inputs.shape[0]
    n_batches = math.ceil(n_items / config.batch_size)
    missing = missing_shards(writer.manifest, n_batches, config.shard_batches)
    mine = missing[distributed.rank :: distributed.world]
    if distributed.active:
        log.info(
            "rank %d of %d harvests %d of the %d shards left",
            distributed.rank,
            distributed.world,
            len(mine),
            len(missing),
        )
    dtype = getattr(torch, config.dtype)
    per_item = inputs.tokens.shape[1] if inputs.tokens is not None else 1
    shard_items = config.shard_batches * config.batch_size
    remaining = sum(min(shard_items, n_items - i * shard_items) for i in missing)
    row_bytes = sum(h.d for h in writer.manifest.hooks.values()) * dtype.itemsize + 24
    _check_disk(writer.folder, remaining * per_item * row_bytes)
    bar = tqdm(
        total=n_items * per_item,
        initial=(n_items - remaining) * per_item,
        unit="tok" if inputs.tokens is not None else "img",
        unit_scale=True,
        desc="harvest",
        disable=not distributed.is_main,
    )
    with OverlappedWriter(writer, enabled=config.overlap_writes) as shards:
        for number in mine:
            shard_start = number * config.shard_batches
            shard_stop = min(shard_start + config.shard_batches, n_batches)
            parts = []
            for batch in range(shard_start, shard_stop):
                first = batch * config.batch_size
                batch_inputs = inputs.inputs[first : first + config.batch_size]
                acts = model.capture(batch_inputs, points, config.stop_early)
                parts.append(batch_rows(acts, first, dtype, inputs.tokens, inputs.keep))
                bar.update(batch_inputs.shape[0] * per_item * distributed.world)
            tensors = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
            nonfinite = {
                p.name: int((~torch.isfinite(tensors[acts_key(p.name)]).all(dim=1)).sum())
                for p in points
            }
            shards.add(tensors, shard_start, shard_stop - shard_start, nonfinite, number)
    bar.close()
