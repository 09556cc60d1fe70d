"""Images as `[3, H, W]` float tensors in [0, 1]: sample sets that ship with packages, or a
folder. Each model's `preprocess` resizes and normalises them."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
SKIMAGE_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry"]


def _to_tensor(array: np.ndarray) -> Tensor:
    array = np.asarray(array)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    array = array[..., :3].astype(np.float32)
    if array.max() > 1.0:
        array = array / 255.0
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)


def load_images(source: str = "skimage") -> list[Tensor]:
    """`skimage` (sample photos), `sklearn` (sample photos), `digits` (8x8 handwritten digits,
    1797 of them), `photos` (about 80 real photos from packages, `saekit.data.photos`),
    `photos:N` (N random square crops of them, seeded) or a folder of image files (sorted by
    name)."""
    if source == "photos" or source.startswith("photos:"):
        from saekit.data.photos import photo_files, random_crops

        photos = [_open(p) for p in photo_files()]
        count = source.partition(":")[2]
        if count and not count.isdigit():
            raise ValueError(f"image source {source!r}: write photos:N with N a whole number")
        return random_crops(photos, int(count)) if count else photos
    if source == "skimage":
        from skimage import data

        return [_to_tensor(getattr(data, name)()) for name in SKIMAGE_PHOTOS]
    if source == "sklearn":
        from sklearn.datasets import load_sample_images

        return [_to_tensor(img) for img in load_sample_images().images]
    if source == "digits":
        from sklearn.datasets import load_digits

        return [_to_tensor(img / 16.0) for img in load_digits().images]
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError(
            f"image source {source!r} is neither a folder nor one of skimage, sklearn, digits"
        )
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    return [_open(p) for p in files]


def _open(path: Path) -> Tensor:
    return _to_tensor(np.asarray(Image.open(path).convert("RGB")))
