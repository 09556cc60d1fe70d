"""The seed method (O'Neill & Bui 2024, "Sparse autoencoders enable scalable and reliable
circuit identification in language models"), as its paper's code runs it: every head's write to
the residual stream, averaged over each prompt's positions, on the task's positive (clean) and
negative (corrupted) prompts; one small ReLU L1 SAE shared by all heads, trained on the head
vectors of a few prompts drawn at random from the pooled positives and negatives; each head's
discrete code on every prompt is its most active latent. A head's node score counts the codes it
takes on positive prompts and never on negative ones; a pair of distinct heads scores the code
pairs they take together on positive prompts and never on negative ones, and heads are then
scored by how often they appear among the top-scoring pairs."""

import tempfile
import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from saekit.analysis.circuits.paper_sae import train_paper_sae
from saekit.analysis.circuits.tasks import Task
from saekit.analysis.circuits.writes import Position, head_writes
from saekit.models import LanguageModel
from saekit.sae import DictionaryConfig
from saekit.train import ArraySource, TrainConfig, train

SAEKind = Literal["paper", "saekit"]


@dataclass(frozen=True)
class DiscreteSAEConfig:
    """The paper's settings by default: 200 latents, λ 0.02 (0.05 for docstring:
    `paper_l1_coefficient`), Adam 1e-3, 500 full-batch epochs on 10 prompts."""

    prompts: int = 10
    """Prompts the SAE trains on, drawn at random from the pooled positive and negative ones."""
    d_sae: int = 200
    l1_coefficient: float = 0.02
    lr: float = 1e-3
    epochs: int = 500
    """Full-batch passes over the training prompts' head vectors."""
    position: Position = "mean"
    """Head vectors averaged over the prompt's positions (the paper) or at its last token."""
    sae: SAEKind = "paper"
    """`paper`: its unit-norm SAE on raw head vectors (`paper_sae.py`); `saekit`: saekit's
    standard L1 SAE and trainer (inputs rescaled to a fixed mean norm, error summed over
    dimensions) with Adam at the same λ — a much weaker sparsity penalty."""
    seed: int = 0
    """Picks the training prompts and seeds the SAE."""


def paper_l1_coefficient(task_name: str) -> float:
    """λ the paper uses on a task: 0.05 for docstring, 0.02 otherwise."""
    return 0.05 if task_name == "docstring" else 0.02


@dataclass(frozen=True)
class DiscreteSAECircuit:
    node_scores: Tensor
    """`[n_layers, n_heads]` codes a head takes on positive prompts and never on negative ones."""
    edge_scores: Tensor
    """`[heads, heads]` (flattened layer-major) code pairs two distinct heads take together on
    positive prompts and never on negative ones (the paper's unique co-occurrences; diagonal 0)."""
    codes_positive: Tensor
    """`[prompts, heads]` each head's code on each positive prompt."""
    codes_negative: Tensor
    training_rows: Tensor
    """Rows of the pooled [positives; negatives] the SAE trained on."""
    seconds: float

    @property
    def edge_node_scores(self) -> Tensor:
        """Node scores from the edges as the paper derives them (`top_pair_counts`)."""
        return top_pair_counts(self.edge_scores).reshape(self.node_scores.shape)


def discrete_sae_circuit(
    model: LanguageModel, task: Task, config: DiscreteSAEConfig = DiscreteSAEConfig()
) -> DiscreteSAECircuit:
    """Codes on every prompt pair of `task`; the SAE trains on `config.prompts` of them."""
    start = time.perf_counter()
    if config.prompts > 2 * len(task):
        raise ValueError(
            f"the task has {2 * len(task)} prompts (clean and corrupted), fewer than the "
            f"{config.prompts} to train on"
        )
    positive = head_writes(model, task, task.clean, config.position)
    negative = head_writes(model, task, task.corrupt, config.position)
    circuit = circuit_from_writes(positive, negative, config)
    return replace(circuit, seconds=time.perf_counter() - start)


def circuit_from_writes(
    positive: Tensor, negative: Tensor, config: DiscreteSAEConfig
) -> DiscreteSAECircuit:
    """The method on head writes `[prompts, layers, heads, d_model]` (its `seconds`: the SAE's
    training and the codes)."""
    start = time.perf_counter()
    n_layers, n_heads, d_model = positive.shape[1:]
    pooled = torch.cat([positive, negative]).reshape(2 * len(positive), -1, d_model)
    generator = torch.Generator().manual_seed(config.seed)
    rows = torch.randperm(len(pooled), generator=generator)[: config.prompts]  # cpu: writes are
    encode = _train_sae(pooled[rows].reshape(-1, d_model), config)
    with torch.no_grad():
        codes = encode(pooled.reshape(-1, d_model)).argmax(-1).reshape(len(pooled), -1)
    codes_pos, codes_neg = codes[: len(positive)], codes[len(positive) :]
    nodes = node_scores(codes_pos, codes_neg).reshape(n_layers, n_heads)
    edges = edge_scores(codes_pos, codes_neg)
    seconds = time.perf_counter() - start
    return DiscreteSAECircuit(nodes, edges, codes_pos, codes_neg, rows, seconds)


def _train_sae(vectors: Tensor, config: DiscreteSAEConfig):
    """The trained SAE's encoder."""
    if config.sae == "paper":
        args = (config.d_sae, config.l1_coefficient, config.lr, config.epochs, config.seed)
        return train_paper_sae(vectors, *args).encode
    if config.sae != "saekit":
        raise ValueError(f"sae must be 'paper' or 'saekit', not {config.sae!r}")
    dictionary = DictionaryConfig(
        architecture="standard", d_sae=config.d_sae, l1_coefficient=config.l1_coefficient
    )
    rows = vectors.shape[0]
    training = TrainConfig(
        dictionary,
        tokens=rows * config.epochs,
        batch_size=rows,
        optimizer="adam",
        lr=config.lr,
        warmup_steps=0,
        decay_start=1.0,
        dead_window=rows * config.epochs + 1,
        seed=config.seed,
    )
    with tempfile.TemporaryDirectory() as out:
        (sae,) = train(ArraySource({"heads": vectors}), training, out, progress=False)
    return sae.encode


def node_scores(codes_positive: Tensor, codes_negative: Tensor) -> Tensor:
    """`[heads]`: distinct codes each head takes on positive prompts and never on negative."""
    scores = torch.zeros(codes_positive.shape[1])  # cpu: codes are on the CPU
    for head in range(codes_positive.shape[1]):
        seen_negative = set(codes_negative[:, head].tolist())
        scores[head] = len(set(codes_positive[:, head].tolist()) - seen_negative)
    return scores


def edge_scores(codes_positive: Tensor, codes_negative: Tensor) -> Tensor:
    """`[heads, heads]`: for each pair of distinct heads, the distinct (code, code) pairs they
    take together on some positive prompt and never on a negative one (diagonal 0). Computed over
    the pairs that occur (at most prompts x heads^2), never a dense heads^2 x codes^2 table."""
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
    scores = torch.from_numpy(counts.reshape(n_heads, n_heads)).float()
    return scores.fill_diagonal_(0)


def top_pair_counts(edge_scores: Tensor) -> Tensor:
    """`[heads]`: how often each head appears among the first n²/2 entries of the list of
    (first head, second head) of every pair sorted by edge score, highest first (the paper's
    k = n_heads²/2; equal scores keep the order of a stable ascending sort reversed)."""
    n = edge_scores.shape[0]
    order = np.argsort(edge_scores.flatten().numpy(), kind="stable")[::-1]
    first, second = np.divmod(order, n)
    components = np.stack([first, second], axis=1).reshape(-1)[: n * n // 2]
    return torch.from_numpy(np.bincount(components, minlength=n)).float()
