"""The flags of the subcommands whose settings have no config of their own in the library
(collect and train use `CollectConfig`, `TrainConfig` and `LiveConfig`). A field without a
default is a required flag; `POSITIONAL` fields are positional arguments. Choice lists that
come from a registry (metrics, concept sets) are passed to the flag helper by the parser."""

from dataclasses import dataclass, field
from typing import Literal

from saekit.defaults import DEFAULT_CORPUS, DEFAULT_MODEL

POSITIONAL = {"positional": True}


@dataclass
class DeviceArgs:
    device: str | None = None
    """cpu, cuda, cuda:1 … (default: cuda when available)."""


@dataclass
class EvalArgs(DeviceArgs):
    dictionary: str = field(kw_only=True)
    """Dictionary folder (eval.json is written into it)."""
    acts: str = field(kw_only=True)
    """Activation store to evaluate on."""
    model: str | None = None
    """Model spec for the loss recovered (e.g. smollm2-135m); omit to skip it."""
    lm_windows: int = 32
    """Token windows for the LM loss."""
    max_rows: int = 100_000
    """Rows for the reconstruction statistics."""
    feature_stats: bool = False
    """Also save per-latent density, quantiles and top rows (feature_stats.safetensors)."""


@dataclass
class SteerArgs(DeviceArgs):
    dictionary: str = field(kw_only=True)
    """Dictionary folder holding feature_stats.safetensors."""
    feature: int = field(kw_only=True)
    """The latent to force on."""
    prompt: str = field(kw_only=True)
    """Text to continue."""
    model: str = DEFAULT_MODEL
    """Model spec."""
    strength: float = 4.0
    """In units of the feature's largest observed activation."""
    max_new_tokens: int = 30
    """Tokens to generate."""
    seed: int = 0
    """Sampling seed."""


@dataclass
class BottleneckArgs(DeviceArgs):
    dictionary: str = field(kw_only=True)
    """A codebook folder (architecture codebook)."""
    model: str = DEFAULT_MODEL
    """Model spec."""
    data: str = DEFAULT_CORPUS
    """Corpus for fine-tuning and evaluation."""
    context_length: int = 128
    """Tokens per window."""
    windows: int = 64
    """Training windows."""
    eval_windows: int = 16
    """Held-out windows."""
    steps: int = 50
    """Optimisation steps."""
    train_model: bool = False
    """Fine-tune the model too (at a gentler learning rate)."""


@dataclass
class DisentangleArgs:
    latents: str = field(kw_only=True)
    """[N, L] .npy, or a scipy sparse .npz (dictionary codes)."""
    factors: str = field(kw_only=True)
    """[N, F] .npy of discrete factor values."""
    metrics: list[str] | None = None
    """Metrics to compute (default: all). Estimator, MI correction and interval flags come
    from `MetricOptions` and `Uncertainty` in saekit.analysis.disentanglement.settings."""
    out: str | None = None
    """Also write the table (values, interval bounds, seed spreads, seconds) as JSON here."""


@dataclass
class ProbeArgs(DeviceArgs):
    model: str = DEFAULT_MODEL
    """Model spec."""
    concepts: list[str] | None = None
    """Concept sets to probe (default: all)."""
    threshold: float = 0.8
    """Accuracy at which a concept counts as decodable."""
    out: str = "probes"
    """Folder for probes.json and probes.png."""


@dataclass
class HooksArgs:
    filter: list[str] = field(default_factory=list, metadata=POSITIONAL)
    """Names or globs to expand (default: list every hook name)."""
    model: str = DEFAULT_MODEL
    """Model spec."""


@dataclass
class StoreImportArgs:
    source: str = field(metadata=POSITIONAL)
    """An [N, d] .npy or .safetensors file."""
    out: str = field(kw_only=True)
    """The store folder to create."""
    hook: str = "imported"
    """Name for the imported activations."""
    key: str | None = None
    """Tensor name inside a .safetensors file."""


@dataclass
class StoreInfoArgs:
    path: str = field(metadata=POSITIONAL)
    """The store folder."""
    verify: Literal["sha256", "size", "none"] = "sha256"
    """How thoroughly to check every shard against the manifest."""
