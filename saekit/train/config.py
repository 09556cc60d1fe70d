"""How to train one dictionary (`saekit train`): the dictionary's own config, nested, plus the
optimisation settings."""

from dataclasses import dataclass, field, replace
from typing import Literal

from saekit.sae.base import Dictionary
from saekit.sae.config import DictionaryConfig
from saekit.sae.registry import check_training_config
from saekit.train.optimizers import OPTIMIZERS, OptimizerName, default_lr

ADAM_LR = 4e-4
SIGN_REFERENCE_BATCH = 4096
"""The batch size at which the sign-based optimizers' encoder takes full steps."""
LATENT_STEP_EXPONENT = 0.35
"""The default `latent_step_exponent` (docs/training.md, "Each latent's encoder step")."""


def topk_family(dictionary: type[Dictionary]) -> bool:
    """TopK-style dictionaries: k latents chosen, unit-norm decoder rows, AuxK."""
    return dictionary.uses_k and dictionary.unit_norm_decoder


@dataclass
class TrainConfig:
    """Which dictionary to train (`dictionary`) and how (the rest)."""

    dictionary: DictionaryConfig = field(default_factory=DictionaryConfig)
    """Architecture, width, sparsity and hooks; `d_in`/`d_out` are read from the data."""
    tokens: int = 1_000_000
    """Training vectors to consume (the data is cycled if it holds fewer)."""
    batch_size: int = 4096
    """Vectors per optimisation step (the global batch under torchrun)."""
    optimizer: OptimizerName = "schedule-free-sign"
    """schedule-free-sign (sign descent inside schedule-free averaging, decoder rows kept
    unit-norm: sparsify's recipe), adam (AdamW, warmup then linear decay) or signum (sign descent
    on momentum, same schedule); see docs/training.md for why the default."""
    lr: float | None = None
    """Peak learning rate (None: 4e-4 for adam; 5e-3 / sqrt(d_sae / 2**14) for the sign-based
    optimizers)."""
    encoder_lr_scale: float | None = None
    """The encoder's (W_enc, b_enc) learning rate as a multiple of the peak rate (None: with the
    default `lr`, for the TopK family under the sign-based optimizers, (batch_size / 4096)**0.75,
    at most 1 — a sign step does not shrink when the gradient gets noisier, and the encoder,
    unlike the unit-norm decoder, is not held to a norm, so at small batches full steps scatter
    its rows until latents die; 1 otherwise, and when `lr` is given; docs/training.md)."""
    latent_step_exponent: float | None = None
    """Each latent's encoder step also shrinks to (the rows it learned from in the batch / the
    average latent's at batch 4096)**exponent where that is below the encoder's scale: a latent
    that fires on few rows gets a noisier gradient, which a sign step does not shrink (None:
    0.35 where the encoder scale's default applies, for dictionaries that count their firings —
    TopK and its transcoders; 0: off)."""
    weight_decay: float | None = None
    """AdamW weight decay (None: the architecture's `default_weight_decay`: 0.1 for qlae,
    which relies on it, 0 otherwise)."""
    warmup_steps: int | None = None
    """Linear learning-rate warmup steps (None: none for schedule-free-sign, 50 otherwise)."""
    decay_start: float = 0.8
    """Fraction of training after which the learning rate decays linearly to zero."""
    dead_window: int | None = None
    """A latent that has not fired for this many vectors counts as dead: AuxK trains it on the
    residual, a codebook restarts it (None: 25k vectors for the TopK family, 200k otherwise)."""
    normalize_activations: bool = True
    """Scale inputs (and targets) to a fixed mean norm while training, so that the recipe does
    not depend on the data's units; folded into the weights when saving."""
    input_norm: float | None = None
    """Mean norm inputs are scaled to (with normalize_activations), as a multiple of sqrt(d_in)
    (None: 1/4 for the TopK family under the sign-based optimizers, else 1; docs/training.md)."""
    geometric_median_init: bool = True
    """Initialise b_dec at the geometric median of the first batch (autoencoders)."""
    holdout: float = 0.1
    """Share of a store's windows (the last ones) kept out of training, so that `saekit eval`
    and the report measure the dictionary on text it never saw (0: train on every row; arrays
    and live training hold nothing out)."""
    checkpoint_every: int = 0
    """Write a resumable checkpoint every N steps (0: only at the end)."""
    seed: int = 0
    """Seeds the initialisation and the order of the batches."""
    rank_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """Precision of the TopK family's ranking matmul: `auto` is bfloat16 on CPUs that multiply
    it natively from d_in 128 (re-ranked in float32, so the selection matches), else float32."""
    autocast: Literal["auto", "on", "off"] = "auto"
    """bf16 autocast of the training step: `auto` turns it on for CUDA devices only."""
    log_to: Literal["none", "jsonl", "tensorboard", "wandb"] = "none"
    """Where to log training metrics (jsonl: `metrics.jsonl` in the output folder)."""
    log_every: int = 10
    """Steps between logged metrics."""

    def __post_init__(self) -> None:
        check_training_config(self.dictionary)
        for name in ("tokens", "batch_size", "dead_window", "log_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: {', '.join(OPTIMIZERS)}")
        if self.input_norm is not None and self.input_norm <= 0:
            raise ValueError(f"input_norm must be > 0, got {self.input_norm}")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.encoder_lr_scale is not None and self.encoder_lr_scale <= 0:
            raise ValueError(f"encoder_lr_scale must be > 0, got {self.encoder_lr_scale}")
        if self.latent_step_exponent is not None and self.latent_step_exponent < 0:
            raise ValueError(f"latent_step_exponent must be >= 0, got {self.latent_step_exponent}")
        if self.latent_step_exponent and self.optimizer == "adam":
            raise ValueError(
                "latent_step_exponent scales sign steps: use it with schedule-free-sign or "
                "signum, or leave it unset with adam"
            )
        if not 0 <= self.holdout < 1:
            raise ValueError(f"holdout must be in [0, 1), got {self.holdout}")
        if not 0 <= self.decay_start <= 1:
            raise ValueError(f"decay_start must be in [0, 1], got {self.decay_start}")

    def for_hook(self, hook: str) -> "TrainConfig":
        """This config with the dictionary reading `hook`."""
        return replace(self, dictionary=replace(self.dictionary, hook_name=hook))

    def peak_lr(self, d_sae: int) -> float:
        if self.lr is not None:
            return self.lr
        return ADAM_LR if self.optimizer == "adam" else default_lr(self.optimizer, d_sae)

    @property
    def warmup(self) -> int:
        """Warmup steps, the default resolved for the optimizer."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return 0 if self.schedule_free else 50

    def input_norm_for(self, dictionary: type[Dictionary]) -> float:
        """The mean input norm (per sqrt(d_in)) training scales to, resolved for a dictionary."""
        if self.input_norm is not None:
            return self.input_norm
        return 0.25 if topk_family(dictionary) and self.optimizer != "adam" else 1.0

    def encoder_lr_scale_for(self, dictionary: type[Dictionary]) -> float:
        """The encoder's learning-rate multiple, resolved for a dictionary."""
        if self.encoder_lr_scale is not None:
            return self.encoder_lr_scale
        if self._scales_encoder(dictionary):
            return min(1.0, (self.batch_size / SIGN_REFERENCE_BATCH) ** 0.75)
        return 1.0

    def latent_step_exponent_for(self, dictionary: type[Dictionary]) -> float:
        """The per-latent encoder step's exponent (0: off), resolved for a dictionary."""
        if self.latent_step_exponent is not None:
            return self.latent_step_exponent
        if self._scales_encoder(dictionary) and dictionary.counts_firings:
            return LATENT_STEP_EXPONENT
        return 0.0

    def _scales_encoder(self, dictionary: type[Dictionary]) -> bool:
        """Whether the encoder's step defaults apply: the TopK family under the sign-based
        optimizers at the default rate."""
        return self.lr is None and topk_family(dictionary) and self.optimizer != "adam"

    def dead_window_for(self, dictionary: type[Dictionary]) -> int:
        """The dead window in vectors, resolved for a dictionary."""
        if self.dead_window is not None:
            return self.dead_window
        return 25_000 if topk_family(dictionary) else 200_000

    @property
    def schedule_free(self) -> bool:
        return self.optimizer == "schedule-free-sign"

    @property
    def steps(self) -> int:
        return -(-self.tokens // self.batch_size)
