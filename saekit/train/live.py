"""Train straight from a model: activations are harvested on the fly, never cached on disk."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count

import torch

from saekit.collect import batch_rows
from saekit.collect_inputs import text_inputs
from saekit.data.text import DEFAULT_CORPUS
from saekit.models import LanguageModel
from saekit.provenance import fingerprint
from saekit.store.reader import acts_key
from saekit.train.sources import Batch


@dataclass
class LiveSource:
    """Rows from forward passes of `model` over packed corpus windows, shuffled within a buffer
    of `buffer_rows`. Deterministic in the seed; restarting at batch `start` replays the
    forward passes before it (compute, not disk)."""

    model: LanguageModel
    hooks: list[str]
    data: str = DEFAULT_CORPUS
    corpus_tokens: int = 1_000_000
    """Token positions packed from the corpus (cycled when training needs more)."""
    context_length: int = 128
    forward_batch: int = 16
    buffer_rows: int = 32_768
    exclude_special: bool = True
    points: list = field(init=False)

    def __post_init__(self) -> None:
        self.points = self.model.resolve_hooks(self.hooks)
        self.hooks = [p.name for p in self.points]
        self._dims = {}

    def dim(self, hook: str) -> int:
        if hook not in self._dims:
            probe = self.model.capture(
                torch.tensor([[self.model.tokenizer.bos_token_id or 0]]), self.points
            )
            self._dims = {k: v[0, 0].numel() for k, v in probe.items()}
        return self._dims[hook]

    def fingerprint(self) -> str:
        return fingerprint(
            [
                self.model.spec,
                self.hooks,
                self.data,
                self.corpus_tokens,
                self.context_length,
                self.forward_batch,
                self.buffer_rows,
                self.exclude_special,
            ]
        )

    def _rows(self, seed: int) -> Iterator[Batch]:
        inputs = text_inputs(
            self.model,
            self.data,
            self.corpus_tokens,
            self.context_length,
            "prepend",
            self.exclude_special,
            seed,
        )
        n = inputs.inputs.shape[0]
        while True:
            for first in range(0, n, self.forward_batch):
                acts = self.model.capture(
                    inputs.inputs[first : first + self.forward_batch], self.points
                )
                rows = batch_rows(acts, inputs, first, torch.float32)
                yield {h: rows[acts_key(h)] for h in self.hooks}

    def batches(self, batch_size: int, seed: int, start: int = 0) -> Iterator[Batch]:
        done = 0
        buffer: dict[str, list] = {h: [] for h in self.hooks}
        rows = self._rows(seed)
        for flush in count():
            while sum(t.shape[0] for t in buffer[self.hooks[0]]) < self.buffer_rows:
                for h, t in next(rows).items():
                    buffer[h].append(t)
            pool = {h: torch.cat(ts) for h, ts in buffer.items()}
            perm = torch.randperm(
                pool[self.hooks[0]].shape[0], generator=torch.Generator().manual_seed(seed + flush)
            )
            pool = {h: t[perm] for h, t in pool.items()}
            full = pool[self.hooks[0]].shape[0] // batch_size * batch_size
            for b in range(0, full, batch_size):
                if done >= start:
                    yield {h: t[b : b + batch_size] for h, t in pool.items()}
                done += 1
            buffer = {h: [t[full:]] for h, t in pool.items()}
