"""Data-parallel training under `torchrun`: every rank reads only its slice of each global batch
(the sources take a `part`), trains on it, and averages gradients; batch statistics (BatchTopK
selection and threshold, input scaling, geometric-median init, dead-latent counts) are computed
on the global batch, so N ranks train the same model as one process with the same global batch.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class Distributed:
    """This process's place among the ranks (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")
    """Where the collectives' own tensors live: the rank's GPU under NCCL, else the CPU."""

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def local_rows(self, batch_size: int) -> slice:
        """Which rows of a global batch are this rank's (the batch size must divide evenly)."""
        if batch_size % self.world:
            raise ValueError(f"batch size {batch_size} is not divisible by {self.world} ranks")
        per = batch_size // self.world
        return slice(self.rank * per, (self.rank + 1) * per)

    def gather(self, values: Tensor) -> Tensor:
        """Concatenate equally shaped tensors from all ranks along the first dimension, in rank
        order (the ranks' slices of a batch become the global batch)."""
        if not self.active:
            return values
        parts = [torch.empty_like(values) for _ in range(self.world)]
        dist.all_gather(parts, values.contiguous())
        return torch.cat(parts)

    def any(self, flag: Tensor) -> Tensor:
        """Elementwise OR of a bool tensor across ranks."""
        if not self.active:
            return flag
        as_int = flag.to(torch.int32)
        dist.all_reduce(as_int, op=dist.ReduceOp.MAX)
        return as_int.bool()

    def sum(self, values: Tensor) -> Tensor:
        """Elementwise sum of a float tensor across ranks."""
        if not self.active:
            return values
        summed = values.clone()
        dist.all_reduce(summed)
        return summed

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.active:
            dist.barrier()

    def all_ok(self, ok: bool) -> bool:
        """True when `ok` holds on every rank (every rank waits here for the others)."""
        return not bool(self.any(torch.tensor([not ok], device=self.device)))

    def average_gradients(self, parameters) -> None:
        if not self.active:
            return
        grads = [p.grad for p in parameters if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()


SINGLE_PROCESS = Distributed()
"""Rank 0 of 1: the default everywhere a `Distributed` is accepted."""


@contextmanager
def process_group_from_env(timeout_s: float = 300.0) -> Iterator[Distributed]:
    """Join the process group `torchrun` describes in the environment (gloo on CPU, NCCL on
    GPU) for the block, and always leave it: ranks meet at a barrier after a block that ends
    normally, and the group is destroyed in any case, so no rank's communication threads are
    torn down by the interpreter's exit (which aborts a rank and fails the job). A plain single
    process gets rank 0 of 1 and no group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        yield SINGLE_PROCESS
        return
    owns_group = not dist.is_initialized()
    if owns_group:
        # torch.distributed.nn binds `group.WORLD` as its collectives' default argument on
        # import: imported after init (torch._dynamo imports it, e.g. with the first optimizer),
        # it keeps the group and gloo's threads alive past destroy_process_group, to be torn
        # down at interpreter exit (the likely source of a rare SIGABRT there). Imported
        # first, it binds None.
        import torch.distributed.nn  # noqa: F401

        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    device = torch.device("cpu")
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    try:
        yield Distributed(dist.get_rank(), dist.get_world_size(), device)
        dist.barrier()
    finally:
        if owns_group:
            dist.destroy_process_group()
