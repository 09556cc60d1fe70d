"""A transcoder set: one transcoder per MLP of a model (input: the MLP's input after its norm;
target: the MLP's output), stored as one folder with a manifest, trained on one forward stream.

Folder layout: `transcoders.json` (the model, its layer count and width, each layer's hooks and
sub-folder) and `layer_NN/` (an ordinary saekit dictionary folder, resumable like every run)."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch

from saekit.artifacts import write_text_atomic
from saekit.collect_inputs import HarvestInputs, text_inputs
from saekit.data.text import DEFAULT_CORPUS
from saekit.models import LanguageModel
from saekit.sae import Dictionary, DictionaryConfig, dictionary_class, load
from saekit.train import TrainConfig, train
from saekit.train.live import LiveConfig, LiveSource

MANIFEST = "transcoders.json"


def input_hook(layer: int) -> str:
    """The MLP's input, after its norm (TransformerLens name)."""
    return f"blocks.{layer}.ln2.hook_normalized"


def output_hook(layer: int) -> str:
    """The MLP's output (TransformerLens name)."""
    return f"blocks.{layer}.hook_mlp_out"


@dataclass
class TranscoderSetConfig:
    """How to train a transcoder for every MLP (`saekit transcoders`)."""

    architecture: Literal["topk", "jumprelu"] = "topk"
    """Transcoder architecture: topk (k latents per token) or jumprelu (learned thresholds)."""
    d_sae: int = 2048
    """Latents per layer."""
    k: int = 16
    """Active latents per token (topk)."""
    l0_coefficient: float = 1.0
    """L0 penalty, which sets how many latents fire (jumprelu)."""
    skip: bool = False
    """Also learn an affine skip map from the MLP's input to its output (skip-transcoders)."""
    tokens: int = 300_000
    """Training tokens, shared by every layer (one forward pass feeds them all)."""
    batch_size: int = 1024
    """Tokens per optimisation step."""
    context_length: int = 128
    """Tokens per corpus window."""
    corpus_tokens: int = 1_000_000
    """Token positions packed from the corpus (training cycles through them from the start;
    the evaluation reads the last windows)."""
    buffer_rows: int = 8192
    """Rows shuffled together (memory: rows x layers x 2 x d_model floats)."""
    layers: list[int] | None = None
    """Layers to train (None: every layer; a graph needs every layer)."""
    checkpoint_every: int = 50
    """Steps between resumable checkpoints."""
    seed: int = 0
    """Seeds initialisation and batch order."""

    def __post_init__(self) -> None:
        for name in (
            "d_sae",
            "k",
            "tokens",
            "batch_size",
            "context_length",
            "corpus_tokens",
            "buffer_rows",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class TranscoderSet:
    """Loaded transcoders, `transcoders[layer]`, with what they were trained on."""

    model: str
    """The model spec the set was trained on."""
    d_model: int
    n_layers: int
    transcoders: dict[int, Dictionary] = field(default_factory=dict)

    def missing_layers(self) -> list[int]:
        """The model's layers the set has no transcoder for (a graph needs none missing)."""
        return [layer for layer in range(self.n_layers) if layer not in self.transcoders]

    def check_model(self, model: LanguageModel) -> None:
        """Refuse a model this set was not trained on, or a set that misses a layer."""
        if model.module.config.hidden_size != self.d_model or model.n_layers != self.n_layers:
            raise ValueError(
                f"the transcoders were trained on {self.model} ({self.n_layers} layers, "
                f"d_model {self.d_model}), not on {model.spec} ({model.n_layers} layers, "
                f"d_model {model.module.config.hidden_size}): pass that model's transcoders"
            )
        if missing := self.missing_layers():
            raise ValueError(
                f"the transcoder set lacks layers {missing}: a graph replaces every MLP, so train "
                "them all (saekit transcoders without --layers)"
            )

    def to(self, device: str | torch.device) -> "TranscoderSet":
        for transcoder in self.transcoders.values():
            transcoder.to(device)
        return self


def layer_folder(layer: int) -> str:
    return f"layer_{layer:02d}"


def _manifest(model: LanguageModel, layers: list[int], config: TranscoderSetConfig) -> dict:
    return {
        "kind": "transcoder_set",
        "model": model.spec,
        "n_layers": model.n_layers,
        "d_model": model.module.config.hidden_size,
        "config": asdict(config),
        "layers": [
            {
                "layer": layer,
                "hook_in": input_hook(layer),
                "hook_out": output_hook(layer),
                "folder": layer_folder(layer),
            }
            for layer in layers
        ],
    }


def _check_resumable(path: Path, manifest: dict) -> None:
    if not path.exists():
        return
    saved = json.loads(path.read_text())
    if saved.get("model") != manifest["model"] or saved.get("layers") != manifest["layers"]:
        raise ValueError(
            f"{path.parent} holds transcoders of {saved.get('model')} for other layers: "
            "choose a new --out to train another set"
        )


def train_transcoder_set(
    model: LanguageModel,
    out: str | Path,
    config: TranscoderSetConfig | None = None,
    data: str | None = None,
    progress: bool = True,
) -> TranscoderSet:
    """Train a transcoder for each chosen layer on one live stream of the model's activations
    (every layer's MLP input and output from the same forward passes); resumes in `out`."""
    config = config or TranscoderSetConfig()
    out = Path(out)
    layers = config.layers if config.layers is not None else list(range(model.n_layers))
    bad = [layer for layer in layers if not 0 <= layer < model.n_layers]
    if bad:
        raise ValueError(f"layers {bad} are not layers of {model.spec} (0..{model.n_layers - 1})")
    manifest = _manifest(model, layers, config)
    _check_resumable(out / MANIFEST, manifest)
    if all((out / layer_folder(layer) / "cfg.json").is_file() for layer in layers):
        return load_transcoder_set(out)  # finished: nothing to replay
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=1))
    live = LiveConfig(
        model=model.spec,
        hooks=[input_hook(layer) for layer in layers] + [output_hook(layer) for layer in layers],
        context_length=config.context_length,
        corpus_tokens=config.corpus_tokens,
        buffer_rows=config.buffer_rows,
        **({"data": data} if data else {}),
    )
    configs = [
        TrainConfig(
            dictionary=transcoder_config(config, layer),
            tokens=config.tokens,
            batch_size=config.batch_size,
            checkpoint_every=config.checkpoint_every,
            seed=config.seed,
        )
        for layer in layers
    ]
    outs = [out / layer_folder(layer) for layer in layers]
    train(LiveSource(model, live), configs, outs, model.spec, progress=progress)
    return load_transcoder_set(out)


def transcoder_config(config: TranscoderSetConfig, layer: int) -> DictionaryConfig:
    """One layer's transcoder: the set's shape, with the sparsity setting its architecture
    reads (k for topk, the L0 penalty for jumprelu)."""
    sparsity = (
        {"k": config.k}
        if dictionary_class(config.architecture).uses_k
        else {"l0_coefficient": config.l0_coefficient}
    )
    return DictionaryConfig(
        architecture=config.architecture,
        d_sae=config.d_sae,
        skip=config.skip,
        hook_name=input_hook(layer),
        hook_name_out=output_hook(layer),
        **sparsity,
    )


def load_transcoder_set(folder: str | Path, device: str | torch.device = "cpu") -> TranscoderSet:
    """Read a set written by `train_transcoder_set` (layers whose training finished)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} is not a transcoder set (no {MANIFEST}): train one with saekit transcoders"
        )
    manifest = json.loads(path.read_text())
    loaded = TranscoderSet(manifest["model"], manifest["d_model"], manifest["n_layers"])
    for entry in manifest["layers"]:
        layer_path = folder / entry["folder"]
        if (layer_path / "cfg.json").is_file():
            loaded.transcoders[entry["layer"]] = load(layer_path, device).eval()
    return loaded


def held_back_windows(
    model: LanguageModel, config: TranscoderSetConfig, n_windows: int, data: str | None = None
) -> HarvestInputs:
    """The last `n_windows` windows of the corpus packing that training on `config` cycles
    through: text the set never saw while its training tokens are fewer than the corpus's."""
    inputs = text_inputs(
        model,
        data or DEFAULT_CORPUS,
        config.corpus_tokens,
        config.context_length,
        "prepend",
        LiveConfig.exclude_special,
        config.seed,
    )
    trained_on = -(-(config.tokens + config.buffer_rows) // (config.context_length - 1))
    if trained_on + n_windows > inputs.inputs.shape[0]:
        raise ValueError(
            f"training read about {trained_on} of the corpus's {inputs.inputs.shape[0]} windows: "
            f"{n_windows} held-back windows are not left; evaluate on fewer, or on other text"
        )
    return HarvestInputs(
        inputs.inputs[-n_windows:],
        inputs.tokens[-n_windows:],
        inputs.keep[-n_windows:],
        inputs.fingerprint,
    )
