"""Dictionaries spread over ranks (`--distribute-dictionaries`, as sparsify's
`distribute_modules`): each dictionary belongs to one rank, chosen so the ranks hold about equal
numbers of parameters; every rank reads only its slice of each global batch, and the slices are
exchanged so that each rank holds the whole global batch of every hook its dictionaries read.
Each rank then trains its dictionaries exactly as one process would on the same global batches,
and writes their checkpoints and outputs itself. The owners depend only on the dictionaries and
the number of ranks, and each checkpoint lives in its dictionary's folder, so a run resumes with
the same or another number of ranks (the folders on a file system every rank sees).

Data parallelism inside a dictionary's group of ranks is not combined with this: a rank holds
whole dictionaries, so a dictionary too large for one device needs plain data parallelism (every
rank holds every dictionary) instead."""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist

from saekit.distributed import Distributed
from saekit.train.config import TrainConfig
from saekit.train.sources import Batch, BatchSource


def dictionary_hooks(config: TrainConfig, source: BatchSource) -> tuple[str, str]:
    """(input hook, target hook) a dictionary reads, as `Trainer` resolves them."""
    hook_in = config.dictionary.hook_name or source.hooks[0]
    return hook_in, config.dictionary.hook_name_out or hook_in


def parameter_count(config: TrainConfig, source: BatchSource) -> int:
    """About how many parameters the dictionary has: its encoder and decoder matrices."""
    hook_in, hook_out = dictionary_hooks(config, source)
    return config.dictionary.d_sae * (source.dim(hook_in) + source.dim(hook_out))


def assign_owners(sizes: Sequence[int], world: int) -> list[int]:
    """The rank that owns each dictionary: largest first, each to the rank holding the fewest
    parameters so far (ties: the lowest rank) — the same answer on every rank."""
    load = [0] * world
    owners = [0] * len(sizes)
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        rank = min(range(world), key=lambda r: (load[r], r))
        owners[index] = rank
        load[rank] += sizes[index]
    return owners


@dataclass(frozen=True)
class BatchExchange:
    """Turns each rank's slice of a global batch into the global batch of the hooks its own
    dictionaries read (a gather to the one rank that reads a hook, an all-gather where several
    do)."""

    distributed: Distributed
    readers: dict[str, tuple[int, ...]]
    """Hook -> the ranks whose dictionaries read it."""

    def __call__(self, local: Batch) -> Batch:
        rank, world = self.distributed.rank, self.distributed.world
        whole = {}
        for hook in sorted(self.readers):  # the same order on every rank
            ranks = self.readers[hook]
            piece = local[hook].to(self.distributed.device).contiguous()
            if len(ranks) == 1:
                parts = [torch.empty_like(piece) for _ in range(world)] if rank in ranks else None
                dist.gather(piece, parts, dst=ranks[0])
                if rank in ranks:
                    whole[hook] = torch.cat(parts)
            else:
                gathered = self.distributed.gather(piece)
                if rank in ranks:
                    whole[hook] = gathered
        return whole

    def earliest(self, step: int) -> int:
        """The smallest of every rank's `step` (where a resumed run starts reading)."""
        value = torch.tensor([step], dtype=torch.long, device=self.distributed.device)
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return int(value.item())


@dataclass(frozen=True)
class Spread:
    owners: list[int]
    """The rank that owns each dictionary, in the order given."""
    exchange: BatchExchange


def spread(configs: Sequence[TrainConfig], source: BatchSource, distributed: Distributed) -> Spread:
    """Who owns which dictionary, and the exchange that feeds them."""
    owners = assign_owners([parameter_count(c, source) for c in configs], distributed.world)
    readers: dict[str, set[int]] = {}
    for config, owner in zip(configs, owners, strict=True):
        for hook in set(dictionary_hooks(config, source)):
            readers.setdefault(hook, set()).add(owner)
    sorted_readers = {hook: tuple(sorted(ranks)) for hook, ranks in readers.items()}
    return Spread(owners, BatchExchange(distributed, sorted_readers))
