"""The one config every dictionary carries; saved as `cfg.json` in the SAELens layout."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any

ARCHITECTURES = (
    "standard",
    "topk",
    "batchtopk",
    "jumprelu",
    "gated",
    "matryoshka_batchtopk",
    "codebook",
    "qlae",
)


@dataclass
class DictionaryConfig:
    """Shape and sparsity knobs of a dictionary. Fields an architecture does not use are ignored."""

    architecture: str
    """One of `standard` (ReLU + L1), `topk`, `batchtopk`, `jumprelu`, `gated`,
    `matryoshka_batchtopk`."""
    d_in: int
    d_sae: int
    """Number of latents (dictionary width)."""
    d_out: int | None = None
    """Target width for transcoders (input at one hook, target at another); None = d_in."""
    k: int | None = None
    """Active latents per example (TopK family)."""
    l1_coefficient: float = 5.0
    """L1 penalty (standard, gated), weighted by decoder row norms."""
    l0_coefficient: float = 1.0
    """L0 penalty (jumprelu)."""
    jumprelu_bandwidth: float = 0.001
    jumprelu_init_threshold: float = 0.001
    threshold_momentum: float = 0.99
    """BatchTopK: momentum of the running inference threshold."""
    matryoshka_widths: list[int] = field(default_factory=list)
    """Nested prefix sizes for Matryoshka (the full width is added last)."""
    codebook_similarity: str = "cosine"
    """Codebook: how codes are ranked against the input: `cosine`, `dot` or `euclidean`."""
    codebook_aggregate: str = "sum"
    """Codebook: the output is the `sum` or the `mean` of the k selected codes."""
    commitment_coefficient: float | None = None
    """Codebook / QLAE: weight of the commitment loss, which pulls the input toward its codes
    (None: 0 for codebook, 0.1 for QLAE)."""
    quantizer_values: int = 10
    """QLAE: scalar values in each latent's codebook."""
    encoder_init_norm: float = 0.25
    """Encoder columns start as the decoder rows scaled to this norm (small starting
    pre-activations train faster and recover more features: see benchmarks/train_vs_peers.py)."""
    apply_b_dec_to_input: bool = True
    """Subtract b_dec from the input before encoding (autoencoders; never for transcoders)."""
    hook_name: str | None = None
    hook_name_out: str | None = None
    model_name: str | None = None

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            known = ", ".join(ARCHITECTURES)
            raise ValueError(f"unknown architecture {self.architecture!r}: choose one of {known}")
        if self.d_in < 1 or self.d_sae < 1 or (self.d_out is not None and self.d_out < 1):
            raise ValueError(f"dimensions must be positive: d_in={self.d_in}, d_sae={self.d_sae}")
        if self.uses_k:
            if self.k is None or not 0 < self.k <= self.d_sae:
                raise ValueError(
                    f"{self.architecture} needs 0 < k <= d_sae ({self.d_sae}), got {self.k}"
                )
        for name in (
            "l1_coefficient",
            "l0_coefficient",
            "jumprelu_bandwidth",
            "jumprelu_init_threshold",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
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
    def uses_k(self) -> bool:
        return self.architecture in ("topk", "batchtopk", "matryoshka_batchtopk", "codebook")

    @property
    def out_dim(self) -> int:
        return self.d_out or self.d_in

    @property
    def is_transcoder(self) -> bool:
        return self.hook_name_out is not None or self.out_dim != self.d_in

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DictionaryConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
