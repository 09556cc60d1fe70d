"""How to train one dictionary (`saekit train`)."""

from dataclasses import dataclass, field
from typing import Literal

from saekit.sae.config import DictionaryConfig

Architecture = Literal[
    "standard", "topk", "batchtopk", "jumprelu", "gated", "matryoshka_batchtopk", "codebook", "qlae"
]


@dataclass
class TrainConfig:
    """Dictionary shape, sparsity and optimisation settings."""

    architecture: Architecture = "topk"
    """Dictionary architecture."""
    width: int = 4096
    """Number of latents (d_sae)."""
    k: int = 32
    """Active latents per example (TopK family)."""
    l1_coefficient: float = 5.0
    """L1 penalty weight (standard, gated)."""
    l0_coefficient: float = 1.0
    """L0 penalty weight (jumprelu)."""
    matryoshka_widths: list[int] = field(default_factory=list)
    """Nested prefix widths (matryoshka_batchtopk)."""
    codebook_similarity: Literal["cosine", "dot", "euclidean"] = "cosine"
    """How a codebook ranks its codes against the input."""
    codebook_aggregate: Literal["sum", "mean"] = "sum"
    """A codebook outputs the sum or the mean of its k selected codes."""
    commitment_coefficient: float | None = None
    """Commitment loss weight (codebook, qlae; None: the architecture's default)."""
    quantizer_values: int = 10
    """Values in each latent's scalar codebook (qlae)."""
    tokens: int = 1_000_000
    """Training vectors to consume (the data is cycled if it holds fewer)."""
    batch_size: int = 4096
    lr: float = 4e-4
    """Peak Adam learning rate."""
    weight_decay: float | None = None
    """AdamW weight decay (None: 0.1 for qlae, which relies on it, 0 otherwise)."""
    warmup_steps: int = 50
    """Linear learning-rate warmup."""
    decay_start: float = 0.8
    """Fraction of training after which the learning rate decays linearly to zero."""
    dead_window: int = 200_000
    """A latent that has not fired for this many vectors counts as dead (AuxK revives it)."""
    normalize_activations: bool = True
    """Scale inputs so their mean norm is sqrt(d_in) while training; folded into the weights
    when saving."""
    geometric_median_init: bool = True
    """Initialise b_dec at the geometric median of the first batch (autoencoders)."""
    checkpoint_every: int = 0
    """Write a resumable checkpoint every N steps (0: only at the end)."""
    seed: int = 0
    hook: str | None = None
    """Input hook name in the store (default: its only hook)."""
    hook_out: str | None = None
    """Target hook for a transcoder (default: autoencode the input)."""
    autocast: Literal["auto", "on", "off"] = "auto"
    """bf16 autocast of the training step: `auto` turns it on for CUDA devices only."""
    log_to: Literal["none", "jsonl", "tensorboard", "wandb"] = "none"
    """Where to log training metrics (jsonl: `metrics.jsonl` in the output folder)."""
    log_every: int = 10
    """Steps between logged metrics."""

    def __post_init__(self) -> None:
        for name in ("width", "tokens", "batch_size", "warmup_steps", "dead_window", "log_every"):
            if getattr(self, name) < (0 if name == "warmup_steps" else 1):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.decay_start <= 1:
            raise ValueError(f"decay_start must be in [0, 1], got {self.decay_start}")

    @property
    def steps(self) -> int:
        return -(-self.tokens // self.batch_size)

    def dictionary_config(self, d_in: int, d_out: int, model_name: str | None = None):
        return DictionaryConfig(
            architecture=self.architecture,
            d_in=d_in,
            d_sae=self.width,
            d_out=d_out if (self.hook_out or d_out != d_in) else None,
            k=self.k,
            l1_coefficient=self.l1_coefficient,
            l0_coefficient=self.l0_coefficient,
            matryoshka_widths=list(self.matryoshka_widths),
            codebook_similarity=self.codebook_similarity,
            codebook_aggregate=self.codebook_aggregate,
            commitment_coefficient=self.commitment_coefficient,
            quantizer_values=self.quantizer_values,
            hook_name=self.hook,
            hook_name_out=self.hook_out,
            model_name=model_name,
        )
