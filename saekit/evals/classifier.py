"""For image classifiers: how often the prediction survives the dictionary spliced in."""

from dataclasses import dataclass

import torch
from torch import Tensor

from saekit.models import VisionModel
from saekit.sae import Dictionary
from saekit.splice import spliced


@dataclass(frozen=True)
class ClassifierAgreement:
    images: int
    top1_agreement: float
    """Fraction of images whose top-1 class is the same with the dictionary spliced in."""
    top5_overlap: float
    """Mean fraction of the clean top-5 classes still in the spliced top 5."""


@torch.no_grad()
def classifier_agreement(
    model: VisionModel, dictionary: Dictionary, images: list[Tensor], batch_size: int = 32
) -> ClassifierAgreement:
    """Compare the classifier's predictions on `images` (`[3, H, W]` in [0, 1]) clean and with
    `dictionary` spliced in at the hook it was trained on."""
    agree, overlap = 0, 0.0
    for start in range(0, len(images), batch_size):
        batch = _resized(images[start : start + batch_size], model.image_size)
        inputs = model.preprocess(batch).to(model.device)
        clean = model.forward(inputs).float()
        with spliced(model, dictionary):
            edited = model.forward(inputs).float()
        agree += int((clean.argmax(-1) == edited.argmax(-1)).sum())
        top_clean, top_edited = clean.topk(5, -1).indices, edited.topk(5, -1).indices
        shared = (top_clean[:, :, None] == top_edited[:, None, :]).any(-1).float().mean(-1)
        overlap += float(shared.sum())
    return ClassifierAgreement(len(images), agree / len(images), overlap / len(images))


def _resized(images: list[Tensor], size: int) -> Tensor:
    return torch.stack(
        [
            torch.nn.functional.interpolate(i[None], size=(size, size), mode="bilinear")[0]
            for i in images
        ]
    )
