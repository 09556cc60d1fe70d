"""What a harvest feeds the model: token windows or preprocessed images, as one tensor."""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from saekit.data.images import load_images
from saekit.data.text import BosPolicy, load_texts, pack_windows
from saekit.models import LanguageModel, VisionModel


@dataclass(frozen=True)
class HarvestInputs:
    inputs: Tensor
    """`[N, ...]` model inputs: token windows `[N, T]` or pixels `[N, 3, S, S]`."""
    tokens: Tensor | None
    """`[N, T]` token ids, None for images."""
    keep: Tensor | None
    """`[N, T]` bool, the positions whose activations are stored; None keeps all."""
    fingerprint: str
    """sha256 of the exact inputs, so a resumed run can prove it sees the same data."""
    replaced_surrogates: int = 0
    """Lone UTF-16 surrogates in the documents, replaced by U+FFFD before tokenizing."""


def text_inputs(
    model: LanguageModel,
    texts: str | Sequence[str],
    n_tokens: int,
    context_length: int,
    bos: BosPolicy,
    exclude_special: bool,
    seed: int,
) -> HarvestInputs:
    """Pack a corpus (name/path, or a list of documents) into `ceil(n_tokens / T)` windows."""
    docs = load_texts(texts, seed=seed) if isinstance(texts, str) else list(texts)
    n_windows = math.ceil(n_tokens / context_length)
    windows = pack_windows(docs, model.tokenizer, context_length, n_windows, bos)
    keep = ~windows.special if exclude_special else None
    return HarvestInputs(
        windows.tokens, windows.tokens, keep, windows.fingerprint, windows.replaced_surrogates
    )


def image_inputs(model: VisionModel, images: str | Sequence[Tensor]) -> HarvestInputs:
    """Preprocess images (a source name/folder, or `[3, H, W]` tensors in [0, 1])."""
    tensors = load_images(images) if isinstance(images, str) else list(images)
    pixels = torch.cat([model.preprocess(img[None]) for img in tensors])
    digest = hashlib.sha256(pixels.numpy().tobytes()).hexdigest()
    return HarvestInputs(pixels, None, None, digest)
