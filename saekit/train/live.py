"""Train straight from a model: activations are harvested on the fly, never cached on disk.

Resuming: the checkpoint records the live settings' fingerprint, and a restarted run replays
the forward passes up to the batch it stopped at (compute, not disk), so a resumed live run
sees exactly the batches an uninterrupted one would have, like a run from a store."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import count

import torch

from saekit.collect_inputs import text_inputs
from saekit.data.reference import data_reference
from saekit.data.text import DEFAULT_CORPUS
from saekit.hooks import HookPoint
from saekit.models import DEFAULT_MODEL, LanguageModel
from saekit.provenance import fingerprint
from saekit.store.rows import acts_key, batch_rows
from saekit.train.sources import ALL, Batch


@dataclass
class LiveConfig:
    """Where live training takes its activations from (`saekit train --model …`)."""

    model: str = DEFAULT_MODEL
    """Language model spec (`smollm2-135m`, `gemma3-270m`, a .gguf file, a folder, a hub id)."""
    hooks: list[str] = field(default_factory=lambda: ["blocks.6.hook_resid_post"])
    """Hook names or globs to train on (a transcoder names its input and target hooks)."""
    data: str = DEFAULT_CORPUS
    """Text corpus (`wiki-offline`, a .txt/.jsonl file, a folder, a dataset name)."""
    corpus_tokens: int = 1_000_000
    """Token positions packed from the corpus (cycled when training needs more)."""
    context_length: int = 128
    """Tokens per window fed to the model."""
    forward_batch: int = 16
    """Windows per forward pass."""
    buffer_rows: int = 32_768
    """Rows shuffled together before they are cut into training batches."""
    exclude_special: bool = True
    """Leave BOS/EOS/special-token positions out (their activations are outliers)."""

    def __post_init__(self) -> None:
        for name in ("corpus_tokens", "context_length", "forward_batch", "buffer_rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        self.data = data_reference(self.data)


@dataclass
class LiveSource:
    """Rows from forward passes of `model` over packed corpus windows, shuffled within a buffer
    of `config.buffer_rows`. Deterministic in the seed; restarting at batch `start` replays the
    forward passes before it."""

    model: LanguageModel
    config: LiveConfig = field(default_factory=LiveConfig)
    hooks: list[str] = field(init=False)
    points: list[HookPoint] = field(init=False)

    def __post_init__(self) -> None:
        self.points = self.model.resolve_hooks(self.config.hooks)
        self.hooks = [p.name for p in self.points]
        self._dims: dict[str, int] = {}

    def dim(self, hook: str) -> int:
        if hook not in self._dims:
            probe = self.model.capture(
                torch.tensor([[self.model.tokenizer.bos_token_id or 0]]),
                self.points,  # cpu: capture moves it
            )
            self._dims = {k: v[0, 0].numel() for k, v in probe.items()}
        return self._dims[hook]

    def fingerprint(self) -> str:
        return fingerprint([self.model.spec, self.hooks, asdict(self.config) | {"model": None}])

    def _rows(self, seed: int) -> Iterator[Batch]:
        cfg = self.config
        inputs = text_inputs(
            self.model,
            cfg.data,
            cfg.corpus_tokens,
            cfg.context_length,
            "prepend",
            cfg.exclude_special,
            seed,
        )
        n = inputs.inputs.shape[0]
        while True:
            for first in range(0, n, cfg.forward_batch):
                acts = self.model.capture(
                    inputs.inputs[first : first + cfg.forward_batch], self.points
                )
                rows = batch_rows(acts, first, torch.float32, inputs.tokens, inputs.keep)
                yield {h: rows[acts_key(h)] for h in self.hooks}

    def batches(
        self, batch_size: int, seed: int, start: int = 0, part: slice = ALL
    ) -> Iterator[Batch]:
        """As `BatchSource.batches`; every rank runs the forward passes for the whole batch
        (harvest to a store first to share that work out)."""
        done = 0
        buffer: dict[str, list] = {h: [] for h in self.hooks}
        rows = self._rows(seed)
        for flush in count():
            while sum(t.shape[0] for t in buffer[self.hooks[0]]) < self.config.buffer_rows:
                for h, t in next(rows).items():
                    buffer[h].append(t)
            pool = {h: torch.cat(ts) for h, ts in buffer.items()}
            perm = torch.randperm(  # cpu: rows are on the CPU
                pool[self.hooks[0]].shape[0], generator=torch.Generator().manual_seed(seed + flush)
            )
            pool = {h: t[perm] for h, t in pool.items()}
            full = pool[self.hooks[0]].shape[0] // batch_size * batch_size
            for b in range(0, full, batch_size):
                if done >= start:
                    yield {h: t[b : b + batch_size][part] for h, t in pool.items()}
                done += 1
            buffer = {h: [t[full:]] for h, t in pool.items()}
