"""The shared base of every dictionary: parameters, encode / decode / forward, decoder norms.

Parameters follow the SAELens layout: `W_enc [d_in, d_sae]`, `b_enc [d_sae]`,
`W_dec [d_sae, d_out]`, `b_dec [d_out]`. Each architecture (one file each) says how
pre-activations become latents at inference (`activate`) and what its training loss is
(`training_loss`), and states its facts as class attributes (`uses_k`, `has_encoder`,
`default_weight_decay`, `saved_as`, `native_codes`), so no caller has to ask `hasattr`.

What every dictionary provides:
- `W_dec [d_sae, d_out]` and `b_dec [d_out]` (a fixed zero where the architecture has no bias);
- `W_enc [d_in, d_sae]` when `has_encoder` (a codebook ranks inputs against `W_dec` instead);
- `pre_activations(x) -> [..., d_sae]` and `activate(pre) -> latents`, so that
  `encode(x) == activate(pre_activations(x))`; `decode`, `forward`, `training_loss`;
- `code_indices(x)` when `native_codes` is set (codebook, QLAE).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from saekit.distributed import SINGLE_PROCESS, Distributed
from saekit.sae.config import ARCHITECTURE_FIELDS, DictionaryConfig


class ForwardOutput(NamedTuple):
    reconstruction: Tensor
    """`[..., d_out]` the dictionary's reconstruction of its target."""
    latents: Tensor
    """`[..., d_sae]` latent activations (dense; mostly zeros)."""
    pre_activations: Tensor
    """`[..., d_sae]` encoder outputs before the sparsifying nonlinearity."""


class TrainStepOutput(NamedTuple):
    loss: Tensor
    """The scalar to minimise."""
    losses: dict[str, Tensor]
    """Its named terms (`mse`, `l1`, `l0`, `auxk`, …), detached."""
    reconstruction: Tensor
    """`[batch, d_out]` reconstruction (detached)."""
    fired: Tensor
    """`[d_sae]` bool, latents active on at least one example of the batch."""
    l0: Tensor
    """Mean number of active latents per example (detached)."""
    firings: Tensor | None = None
    """`[d_sae]` float, the rows of the batch each latent's encoder learned from (its code's
    and AuxK's), where the dictionary counts them (the TopK SAE); None otherwise."""


def squared_error(reconstruction: Tensor, target: Tensor) -> Tensor:
    """Per-example squared error summed over features, averaged over the batch."""
    return (reconstruction - target).pow(2).sum(-1).mean()


class Dictionary(nn.Module, ABC):
    """A sparse dictionary. Subclasses set `architecture` and implement `activate`."""

    architecture: ClassVar[str]
    """The name stored in cfg.json and used by the registry."""
    uses_k: ClassVar[bool] = False
    """Sparsity is set by `cfg.k` (the TopK family, codebooks)."""
    config_fields: ClassVar[tuple[str, ...]] = ()
    """The architecture-specific config fields it reads (besides the shape and `k`)."""
    has_encoder: ClassVar[bool] = True
    """Has `W_enc`/`b_enc` (False: latents come from comparing the input with `W_dec`)."""
    default_weight_decay: ClassVar[float] = 0.0
    """AdamW weight decay when the training config leaves it unset."""
    saved_as: ClassVar[str | None] = None
    """The SAELens architecture it is saved as, when that differs (BatchTopK -> jumprelu)."""
    native_codes: ClassVar[str | None] = None
    """Kind of its own discrete symbols (`codebook`, `quantized`), None when it has none."""
    unit_norm_decoder: ClassVar[bool] = False
    """Decoder rows kept at unit norm during training (the TopK family)."""
    counts_firings: ClassVar[bool] = False
    """`training_loss` returns each latent's firings in the batch (`TrainStepOutput.firings`)."""
    supports_skip: ClassVar[bool] = False
    """Trains a skip map `W_skip [d_in, d_out]` when `cfg.skip` is set."""

    @classmethod
    def check_config(cls, cfg: DictionaryConfig) -> None:
        """Refuse a config this architecture cannot be built from."""
        if cls.uses_k and not (cfg.k is not None and 0 < cfg.k <= cfg.d_sae):
            raise ValueError(f"{cls.architecture} needs 0 < k <= d_sae ({cfg.d_sae}), got {cfg.k}")
        if cfg.skip and not cls.supports_skip:
            raise ValueError(
                f"a {cls.architecture} dictionary has no skip map: --skip needs topk or jumprelu"
            )

    @classmethod
    def read_fields(cls) -> tuple[str, ...]:
        """The architecture-specific config fields it reads: `k` if it uses k, then its own."""
        return ("k", *cls.config_fields) if cls.uses_k else cls.config_fields

    @classmethod
    def unused_fields(cls, cfg: DictionaryConfig) -> list[str]:
        """Architecture-specific fields set away from their defaults that it does not read."""
        defaults = DictionaryConfig()
        return [
            name
            for name in ARCHITECTURE_FIELDS
            if name not in cls.read_fields() and getattr(cfg, name) != getattr(defaults, name)
        ]

    def __init__(self, cfg: DictionaryConfig):
        super().__init__()
        self.cfg = cfg
        d_in, d_sae, d_out = cfg.d_in, cfg.d_sae, cfg.out_dim
        W_dec = torch.randn(d_sae, d_out)  # cpu: built, then moved
        W_dec /= W_dec.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(W_dec)
        if self.has_encoder:
            if d_out == d_in:
                W_enc = W_dec.T.clone()
            else:
                W_enc = torch.randn(d_in, d_sae)  # cpu: built, then moved
                W_enc /= W_enc.norm(dim=0, keepdim=True)
            self.W_enc = nn.Parameter(W_enc * cfg.encoder_init_norm)
            self.b_enc = nn.Parameter(torch.zeros(d_sae))  # cpu: built, then moved
        self.b_dec = nn.Parameter(torch.zeros(d_out))  # cpu: built, then moved
        if cfg.skip:
            self.W_skip = nn.Parameter(torch.zeros(d_in, d_out))  # cpu: built, then moved
        self.distributed: Distributed = SINGLE_PROCESS
        """Set by the trainer under torchrun, so batch statistics span all ranks' rows."""

    @property
    def d_sae(self) -> int:
        return self.cfg.d_sae

    def check_width(self, x: Tensor) -> None:
        if x.shape[-1] != self.cfg.d_in:
            raise ValueError(
                f"data has width {x.shape[-1]} but this {self.cfg.architecture} dictionary takes "
                f"d_in={self.cfg.d_in}: use activations from the hook it was trained on "
                f"({self.cfg.hook_name or 'unknown'})"
            )

    def encoder_input(self, x: Tensor) -> Tensor:
        """What the encoder sees: `x - b_dec` for autoencoders that centre on b_dec, else `x`."""
        self.check_width(x)
        return x - self.b_dec if self.cfg.apply_b_dec_to_input else x

    def pre_activations(self, x: Tensor) -> Tensor:
        return self.encoder_input(x) @ self.W_enc + self.b_enc

    @abstractmethod
    def activate(self, pre: Tensor) -> Tensor:
        """Inference nonlinearity: `[..., d_sae]` pre-activations -> latents."""

    def encode_with_pre(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """`[..., d_in]` -> (latents, pre-activations), both `[..., d_sae]`."""
        pre = self.pre_activations(x)
        return self.activate(pre), pre

    def encode(self, x: Tensor) -> Tensor:
        """`[..., d_in]` -> `[..., d_sae]` latent activations."""
        return self.encode_with_pre(x)[0]

    def decode(self, latents: Tensor) -> Tensor:
        """`[..., d_sae]` -> `[..., d_out]`."""
        return latents @ self.W_dec + self.b_dec

    def skip_term(self, x: Tensor) -> Tensor | float:
        """`x @ W_skip` with a skip map, else 0: what the output adds beside the latents."""
        return x @ self.W_skip if self.cfg.skip else 0.0

    def forward(self, x: Tensor) -> ForwardOutput:
        latents, pre = self.encode_with_pre(x)
        return ForwardOutput(self.decode(latents) + self.skip_term(x), latents, pre)

    @abstractmethod
    def training_loss(
        self, x: Tensor, target: Tensor, dead_mask: Tensor | None = None
    ) -> TrainStepOutput:
        """One batch's loss and statistics; `dead_mask [d_sae]` marks latents considered dead."""

    @torch.no_grad()
    def initialise_from_data(self, x: Tensor, centre: Tensor | None = None) -> None:
        """Data-dependent initialisation from the first (scaled) training batch `x`; `centre`
        is the trainer's choice of starting `b_dec` (the geometric median or the mean)."""
        if centre is not None:
            self.b_dec.copy_(centre)

    def code_indices(self, x: Tensor) -> Tensor:
        """The dictionary's own discrete symbols for `x` (see `native_codes`)."""
        raise ValueError(
            f"a {self.architecture} dictionary has no native codes: use its latents instead"
        )

    def decoder_norms(self) -> Tensor:
        return self.W_dec.norm(dim=1)

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        unit_rows_(self.W_dec)

    @torch.no_grad()
    def remove_parallel_decoder_grad(self) -> None:
        """Drop the gradient component along each (unit) decoder row, so a step moves the row
        on the sphere rather than changing its norm."""
        if self.W_dec.grad is None:
            return
        parallel = torch.linalg.vecdot(self.W_dec.grad, self.W_dec).unsqueeze(1)
        self.W_dec.grad.addcmul_(parallel, self.W_dec, value=-1)  # no [d_sae, d] temporaries

    @torch.no_grad()
    def fold_input_scaling(self, scale_in: float, scale_out: float) -> None:
        """The dictionary was trained on `x * scale_in` with targets `y * scale_out`; rewrite the
        weights so it takes raw `x` and returns raw `y` with identical latents."""
        self.W_enc *= scale_in
        self.W_dec /= scale_out
        self.b_dec /= scale_out
        if self.cfg.skip:
            self.W_skip *= scale_in / scale_out

    def saelens_config(self) -> dict:
        """The architecture-specific keys of its SAELens `cfg.json`."""
        return {"architecture": self.saved_as or self.architecture}

    def inference_state(self) -> dict[str, Tensor]:
        """The tensors to save (SAELens names)."""
        return {k: v.detach() for k, v in self.state_dict().items()}

    def fired_and_l0(self, latents: Tensor) -> tuple[Tensor, Tensor]:
        active = latents > 0
        return active.any(dim=0), active.sum(-1).float().mean()


@torch.no_grad()
def unit_rows_(matrix: Tensor) -> Tensor:
    """Scale each row of `matrix` to unit norm, in place."""
    return matrix.div_(matrix.norm(dim=1, keepdim=True).clamp_min(1e-8))


def resolve_hook(
    dictionary: "Dictionary", requested: str | None = None, available: Sequence[str] = ()
) -> str:
    """The hook a dictionary reads: the one asked for, else the one it was trained on, else the
    data's first (`available`, e.g. a store's hooks)."""
    hook = requested or dictionary.cfg.hook_name or (available[0] if available else None)
    if hook is None:
        raise ValueError(
            f"this {dictionary.cfg.architecture} dictionary records no hook and none was given: "
            "pass the hook it reads"
        )
    return hook
