"""The seed method (O'Neill & Bui 2024, "Sparse autoencoders enable scalable and reliable
circuit identification in language models"): every head's write to the residual stream on a
few positive (clean) and negative (corrupted) prompts is encoded by one ReLU L1 SAE shared by
all heads; each head's discrete code is its most active latent. A head is in the circuit when it
takes codes on positive prompts that it never takes on negative ones; an edge between two heads
when they take pairs of codes together on positive prompts that never occur on negative ones."""

import tempfile
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from saekit.analysis.circuits.heads import head_points
from saekit.analysis.circuits.tasks import Task
from saekit.analysis.codes import discrete_codes
from saekit.models import LanguageModel
from saekit.sae import DictionaryConfig
from saekit.train import ArraySource, TrainConfig, train

Position = Literal["mean", "last"]


@dataclass(frozen=True)
class DiscreteSAEConfig:
    """The paper's settings by default (200 latents, L1 0.02, Adam 1e-3, 500 full-batch
    epochs on 10 prompt pairs)."""

    prompts: int = 10
    """Prompt pairs the SAE is trained and the codes are read on."""
    d_sae: int = 200
    l1_coefficient: float = 0.02
    lr: float = 1e-3
    epochs: int = 500
    """Full-batch passes over the head vectors."""
    position: Position = "mean"
    """Head vectors averaged over the prompt's positions (the paper) or at its last token."""
    seed: int = 0
    """Picks the prompts and seeds the SAE."""


@dataclass(frozen=True)
class DiscreteSAECircuit:
    node_scores: Tensor
    """`[n_layers, n_heads]` codes a head takes on positive prompts and never on negative ones."""
    edge_scores: Tensor
    """`[heads, heads]` (flattened layer-major) code pairs seen together on positive prompts
    and never on negative ones (the paper's U)."""
    codes_positive: Tensor
    """`[prompts, heads]` each head's code on each positive prompt (-1: no latent fired)."""
    codes_negative: Tensor
    seconds: float

    @property
    def edge_node_scores(self) -> Tensor:
        """Node scores derived from the edges: each head's total edge score."""
        return self.edge_scores.sum(1).reshape(self.node_scores.shape)


@torch.no_grad()
def head_writes(model: LanguageModel, task: Task, ids: Tensor, rows: Tensor, position: Position):
    """`[prompts, layers, heads, d_model]`: each head's write to the residual stream, z_h @
    W_O[:, h]^T, averaged over the real positions of each prompt or at its last one."""
    points = head_points(model)
    z = model.capture(ids[rows], points, stop_early=False)
    modules = dict(model.module.named_modules())
    last = task.last[rows]
    mask = torch.arange(ids.shape[1])[None, :] <= last[:, None]  # [P, T] real positions
    writes = []
    for point in points:
        z_layer = z[point.name]  # [P, T, H, dh]
        n_heads, head_dim = z_layer.shape[2:]
        w_o = modules[point.module].weight.reshape(-1, n_heads, head_dim)  # [d_model, H, dh]
        per_position = torch.einsum("pthd,mhd->pthm", z_layer, w_o)
        if position == "last":
            writes.append(per_position[torch.arange(len(rows)), last])
        else:
            weights = mask[..., None, None].to(per_position)
            writes.append((per_position * weights).sum(1) / weights.sum(1))
    return torch.stack(writes, dim=1)


def discrete_sae_circuit(
    model: LanguageModel, task: Task, config: DiscreteSAEConfig = DiscreteSAEConfig()
) -> DiscreteSAECircuit:
    start = time.perf_counter()
    if config.prompts > len(task):
        raise ValueError(f"the task has {len(task)} prompt pairs, fewer than {config.prompts}")
    rows = torch.randperm(len(task), generator=torch.Generator().manual_seed(config.seed))
    rows = rows[: config.prompts]
    positive = head_writes(model, task, task.clean, rows, config.position)
    negative = head_writes(model, task, task.corrupt, rows, config.position)
    n_layers, n_heads, d_model = positive.shape[1:]
    vectors = torch.cat([positive, negative]).reshape(-1, d_model)
    sae = _train_shared_sae(vectors, config)
    codes = discrete_codes(sae, vectors, "argmax").codes.reshape(2 * len(rows), -1)
    codes_pos, codes_neg = codes[: len(rows)], codes[len(rows) :]
    nodes = node_scores(codes_pos, codes_neg).reshape(n_layers, n_heads)
    edges = edge_scores(codes_pos, codes_neg)
    return DiscreteSAECircuit(nodes, edges, codes_pos, codes_neg, time.perf_counter() - start)


def _train_shared_sae(vectors: Tensor, config: DiscreteSAEConfig):
    dictionary = DictionaryConfig(
        architecture="standard", d_sae=config.d_sae, l1_coefficient=config.l1_coefficient
    )
    rows = vectors.shape[0]
    training = TrainConfig(
        dictionary,
        tokens=rows * config.epochs,
        batch_size=rows,
        lr=config.lr,
        warmup_steps=0,
        decay_start=1.0,
        dead_window=rows * config.epochs + 1,
        seed=config.seed,
    )
    with tempfile.TemporaryDirectory() as out:
        (sae,) = train(ArraySource({"heads": vectors}), training, out, progress=False)
    return sae


def node_scores(codes_positive: Tensor, codes_negative: Tensor) -> Tensor:
    """`[heads]`: distinct codes each head takes on positive prompts and never on negative."""
    scores = torch.zeros(codes_positive.shape[1])
    for head in range(codes_positive.shape[1]):
        seen_negative = set(codes_negative[:, head].tolist())
        scores[head] = len(set(codes_positive[:, head].tolist()) - seen_negative)
    return scores


def edge_scores(codes_positive: Tensor, codes_negative: Tensor) -> Tensor:
    """`[heads, heads]`: for each head pair, the distinct (code, code) pairs they take together
    on some positive prompt and never on a negative one. Computed over the pairs that occur
    (at most prompts x heads^2), never over a dense heads^2 x codes^2 table."""
    n_heads = codes_positive.shape[1]
    n_codes = int(max(codes_positive.max(), codes_negative.max())) + 2  # -1 becomes 0

    def keys(codes: Tensor) -> np.ndarray:
        c = codes.numpy().astype(np.int64) + 1  # [P, H]
        pair = np.arange(n_heads * n_heads, dtype=np.int64).reshape(n_heads, n_heads)
        joint = c[:, :, None] * n_codes + c[:, None, :]  # [P, H, H]
        return np.unique(pair[None] * n_codes * n_codes + joint)

    positive = keys(codes_positive)
    only_positive = positive[~np.isin(positive, keys(codes_negative))]
    counts = np.bincount(only_positive // (n_codes * n_codes), minlength=n_heads * n_heads)
    return torch.from_numpy(counts.reshape(n_heads, n_heads)).float()
