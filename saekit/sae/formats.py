"""Dictionary folders on disk: saekit / SAELens (`cfg.json` + `sae_weights.safetensors`) and
sparsify (`cfg.json` + `sae.safetensors`). Never pickle."""

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from saekit.artifacts import (
    DICTIONARY_CONFIG,
    DICTIONARY_WEIGHTS,
    SPARSIFY_WEIGHTS,
    write_atomic,
    write_text_atomic,
)
from saekit.provenance import provenance
from saekit.sae.base import Dictionary
from saekit.sae.config import DictionaryConfig
from saekit.sae.registry import build, dictionary_class


def _write(path: Path, cfg: dict[str, Any], weights_name: str, tensors: dict[str, Tensor]) -> None:
    """Weights first, then the config: a folder whose cfg.json is readable is complete."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    write_atomic(path / weights_name, lambda tmp: save_file(tensors, str(tmp)))
    write_text_atomic(path / DICTIONARY_CONFIG, json.dumps(cfg, indent=1, sort_keys=True))


def save(dictionary: Dictionary, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Save in the SAELens layout; saekit's full config and provenance ride along under
    `saekit` (SAELens ignores unknown keys)."""
    cfg = dictionary.cfg
    out = dictionary.saelens_config() | {
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "model_name": cfg.model_name,
            "hook_name": cfg.hook_name,
            "hook_name_out": cfg.hook_name_out,
        },
        "saekit": {"config": cfg.to_dict(), "provenance": provenance()} | (metadata or {}),
    }
    if cfg.out_dim != cfg.d_in:
        out["d_out"] = cfg.out_dim
    tensors = {k: v.float() for k, v in dictionary.inference_state().items()}
    _write(Path(path), out, DICTIONARY_WEIGHTS, tensors)
    return Path(path)


def _saelens_config(raw: dict[str, Any]) -> DictionaryConfig:
    if "saekit" in raw:
        data = dict(raw["saekit"]["config"])
        data["architecture"] = raw["architecture"]  # e.g. batchtopk is saved as jumprelu
        return DictionaryConfig.from_dict(data)
    architecture = raw.get("architecture", "standard")
    k = raw.get("k")
    if raw.get("activation_fn_str") == "topk":  # older flat SAELens configs
        architecture, k = "topk", raw.get("activation_fn_kwargs", {}).get("k")
    dictionary_class(architecture)  # a clear error for an architecture saekit does not read
    if raw.get("normalize_activations", "none") not in ("none", None):
        raise ValueError(
            f"normalize_activations={raw['normalize_activations']!r} needs a run-time scaling "
            "factor saekit does not apply; fold it into the weights first"
        )
    metadata = raw.get("metadata", raw)
    return DictionaryConfig(
        architecture=architecture,
        d_in=raw["d_in"],
        d_sae=raw["d_sae"],
        d_out=raw.get("d_out"),
        k=k,
        apply_b_dec_to_input=raw.get("apply_b_dec_to_input", True),
        hook_name=metadata.get("hook_name"),
        hook_name_out=metadata.get("hook_name_out"),
        model_name=metadata.get("model_name"),
    )


def _sparsify(raw: dict[str, Any], tensors: dict[str, Tensor]) -> tuple[DictionaryConfig, dict]:
    if raw.get("activation", "topk") != "topk":
        raise ValueError("saekit reads sparsify TopK coders only")
    d_sae = tensors["encoder.weight"].shape[0]
    cfg = DictionaryConfig(
        architecture="topk",
        d_in=raw["d_in"],
        d_sae=d_sae,
        k=raw["k"],
        skip=bool(raw.get("skip_connection", False)),
        apply_b_dec_to_input=not raw.get("transcode", False),
    )
    state = {
        "W_enc": tensors["encoder.weight"].T,
        "b_enc": tensors["encoder.bias"],
        "W_dec": tensors["W_dec"],
        "b_dec": tensors["b_dec"],
    }
    if cfg.skip:  # sparsify adds x @ W_skip.T
        state["W_skip"] = tensors["W_skip"].T
    return cfg, state


def load(path: str | Path, device: str | torch.device = "cpu") -> Dictionary:
    """Load a saekit, SAELens (v6 or older flat config) or sparsify dictionary folder."""
    path = Path(path)
    if not (path / DICTIONARY_CONFIG).is_file():
        raise FileNotFoundError(f"{path} holds no {DICTIONARY_CONFIG}: not a dictionary folder")
    raw = json.loads((path / DICTIONARY_CONFIG).read_text())
    if (path / DICTIONARY_WEIGHTS).is_file():
        tensors = load_file(str(path / DICTIONARY_WEIGHTS))
        cfg, state = _saelens_config(raw), tensors
    elif (path / SPARSIFY_WEIGHTS).is_file():
        cfg, state = _sparsify(raw, load_file(str(path / SPARSIFY_WEIGHTS)))
    else:
        raise FileNotFoundError(f"{path} has neither {DICTIONARY_WEIGHTS} nor {SPARSIFY_WEIGHTS}")
    dictionary = build(cfg)
    expected = set(dictionary.state_dict())
    if set(state) != expected:
        raise ValueError(
            f"{path}: weights {sorted(state)} do not match a {cfg.architecture} dictionary "
            f"(expects {sorted(expected)})"
        )
    dictionary.load_state_dict({k: v.float() for k, v in state.items()})
    return dictionary.to(device).eval()


def save_sparsify(dictionary: Dictionary, path: str | Path) -> Path:
    """Write a TopK dictionary in sparsify's layout (for interoperability and tests)."""
    cfg = dictionary.cfg
    if cfg.architecture != "topk":
        raise ValueError("sparsify's format holds TopK coders only")
    raw = {
        "d_in": cfg.d_in,
        "k": cfg.k,
        "num_latents": cfg.d_sae,
        "expansion_factor": max(cfg.d_sae // cfg.d_in, 1),
        "activation": "topk",
        "normalize_decoder": True,
        "multi_topk": False,
        "skip_connection": cfg.skip,
        "transcode": not cfg.apply_b_dec_to_input,
    }
    tensors = {
        "encoder.weight": dictionary.W_enc.T,
        "encoder.bias": dictionary.b_enc,
        "W_dec": dictionary.W_dec,
        "b_dec": dictionary.b_dec,
    }
    if cfg.skip:
        tensors["W_skip"] = dictionary.W_skip.T
    _write(Path(path), raw, SPARSIFY_WEIGHTS, tensors)
    return Path(path)
