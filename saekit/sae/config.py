"""The one config every dictionary carries; saved as `cfg.json` in the SAELens layout and nested
in the training config (the trainer fills in what the data says: `d_in`, `d_out`, hooks)."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

ARCHITECTURE_FIELDS = (
    "k",
    "l1_coefficient",
    "l0_coefficient",
    "jumprelu_bandwidth",
    "jumprelu_init_threshold",
    "threshold_momentum",
    "matryoshka_widths",
    "codebook_similarity",
    "codebook_aggregate",
    "commitment_coefficient",
    "quantizer_values",
)
"""Fields only some architectures read (each class names its own in `config_fields`)."""
Similarity = Literal["cosine", "dot", "euclidean"]
Aggregate = Literal["sum", "mean"]
FROM_DATA = {"cli": False}
"""Field metadata: set from the data or the run, not by a command-line flag."""


@dataclass
class DictionaryConfig:
    """Architecture, shape and sparsity of a dictionary. Each architecture reads its own
    fields (`Dictionary.config_fields`); training refuses one set on an architecture that does
    not read it."""

    architecture: str = "topk"
    """Dictionary architecture (`saekit.sae.ARCHITECTURES`): standard (ReLU + L1), topk,
    batchtopk, jumprelu, gated, matryoshka_batchtopk, codebook or qlae."""
    d_in: int | None = field(default=None, metadata=FROM_DATA)
    """Input width (None until the trainer reads it from the data)."""
    d_sae: int = 4096
    """Number of latents (dictionary width; codes of a codebook, latents of a QLAE)."""
    d_out: int | None = field(default=None, metadata=FROM_DATA)
    """Target width for transcoders (input at one hook, target at another); None = d_in."""
    k: int = 32
    """Active latents per example (TopK family, codebook)."""
    l1_coefficient: float = 5.0
    """L1 penalty (standard, gated), weighted by decoder row norms."""
    l0_coefficient: float = 1.0
    """L0 penalty (jumprelu)."""
    jumprelu_bandwidth: float = 0.001
    """Width of the rectangle kernel of JumpReLU's pseudo-derivative (jumprelu)."""
    jumprelu_init_threshold: float = 0.001
    """Starting threshold of every JumpReLU latent (jumprelu)."""
    threshold_momentum: float = 0.99
    """Momentum of the running inference threshold (batchtopk, matryoshka_batchtopk)."""
    matryoshka_widths: list[int] = field(default_factory=list)
    """Nested prefix sizes (matryoshka_batchtopk; the full width is added last)."""
    codebook_similarity: Similarity = "cosine"
    """How a codebook ranks its codes against the input (codebook)."""
    codebook_aggregate: Aggregate = "sum"
    """A codebook outputs the sum or the mean of its k selected codes (codebook)."""
    commitment_coefficient: float | None = None
    """Weight of the commitment loss, which pulls the input toward its codes (codebook, qlae;
    None: 0 for codebook, 0.1 for QLAE)."""
    quantizer_values: int = 10
    """Scalar values in each latent's codebook (qlae)."""
    encoder_init_norm: float = 0.25
    """Encoder columns start as the decoder rows scaled to this norm (small starting
    pre-activations train faster and recover more features: see benchmarks/train_vs_peers.py)."""
    skip: bool = False
    """Add an affine skip map `x @ W_skip` from the input to the output beside the latents
    (skip-transcoders; TopK and JumpReLU)."""
    apply_b_dec_to_input: bool = True
    """Subtract b_dec from the input before encoding (autoencoders; never for transcoders)."""
    hook_name: str | None = None
    """Input hook (default: the data's first hook)."""
    hook_name_out: str | None = None
    """Target hook of a transcoder (default: reconstruct the input)."""
    model_name: str | None = field(default=None, metadata=FROM_DATA)
    """The model the activations came from (recorded, not used)."""
    held_out: dict[str, Any] | None = field(default=None, metadata=FROM_DATA)
    """The rows of its training store kept out of training (`saekit.store.holdout.HeldOut`);
    evaluations on that store use them."""

    def __post_init__(self) -> None:
        for name in ("d_in", "d_out"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.d_sae < 1:
            raise ValueError(f"d_sae must be positive, got {self.d_sae}")
        for name in ("l1_coefficient", "l0_coefficient", "jumprelu_bandwidth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.jumprelu_init_threshold < 0:
            raise ValueError("jumprelu_init_threshold must be >= 0")
        if self.codebook_similarity not in ("cosine", "dot", "euclidean"):
            raise ValueError("codebook_similarity must be cosine, dot or euclidean")
        if self.codebook_aggregate not in ("sum", "mean"):
            raise ValueError("codebook_aggregate must be sum or mean")
        if self.quantizer_values < 2:
            raise ValueError(f"quantizer_values must be >= 2, got {self.quantizer_values}")
        if not 0 <= self.threshold_momentum < 1:
            raise ValueError("threshold_momentum must be in [0, 1)")
        if self.is_transcoder:
            self.apply_b_dec_to_input = False
        widths = self.matryoshka_widths
        if widths and (sorted(widths) != widths or widths[-1] > self.d_sae or widths[0] < 1):
            raise ValueError(f"matryoshka_widths must increase within 1..d_sae, got {widths}")

    @property
    def out_dim(self) -> int | None:
        return self.d_out or self.d_in

    @property
    def is_transcoder(self) -> bool:
        return self.hook_name_out is not None or (
            self.d_out is not None and self.d_out != self.d_in
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DictionaryConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
