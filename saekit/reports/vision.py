"""The data behind each vision feature's dashboard: the images where the latent fires hardest,
each with the latent's activation over the model's spatial grid (drawn in the page as a plotly
heatmap over the image), and the histogram of its activations. The images are rebuilt from the
store's manifest (its image source), rows of one image being its grid positions in row-major
order; each image used is embedded once, as a small JPEG, however many features show it."""

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from saekit.data.images import load_images
from saekit.latents.firing import latent_firing
from saekit.latents.sources import DictionarySource
from saekit.reports.dashboards import DashboardConfig, histogram
from saekit.sae import Dictionary
from saekit.sae.base import resolve_hook
from saekit.store import ActivationStore

THUMBNAIL = 128
"""Side of each embedded image, in pixels."""
MAX_IMAGES = 8
"""Top images shown per feature."""


@dataclass
class VisionDashboards:
    dashboards: dict[int, dict]
    """Per latent: `images` (`{"image", "value", "grid"}`, strongest first: the image's number,
    the latent's peak on it and its `[side][side]` activation grid) and `hist`."""
    images: dict[str, str]
    """Image number -> JPEG data URI, for every image some dashboard shows."""
    max_activation: dict[int, float]


def vision_dashboards(
    dictionary: Dictionary,
    store: ActivationStore,
    latents: Sequence[int],
    cfg: DashboardConfig | None = None,
) -> VisionDashboards:
    """Dashboards for `latents` with the top min(`cfg.top`, MAX_IMAGES) images of each."""
    cfg = cfg or DashboardConfig()
    source = store.manifest.config.get("data")
    if not isinstance(source, str):
        raise ValueError("the store was harvested from in-memory images: they cannot be rebuilt")
    firing = latent_firing(
        DictionarySource(dictionary, resolve_hook(dictionary, None, store.hooks)), store, latents
    )
    windows = store.windows[: firing.n_rows].numpy()
    n_images = int(windows.max()) + 1 if len(windows) else 0
    first = np.searchsorted(windows, np.arange(n_images + 1))
    boards, maxima, used = {}, {}, set()
    for index, latent in enumerate(latents):
        rows, values = firing.rows[index], firing.values[index]
        shown = []
        for image in _top_images(windows[rows], values, min(cfg.top, MAX_IMAGES)):
            grid = firing.values_at(index, first[image], first[image + 1])
            shown.append(
                {"image": image, "value": round(float(grid.max()), 4), "grid": _square(grid)}
            )
            used.add(image)
        boards[latent] = {"images": shown, "hist": histogram(values, cfg.bins)}
        maxima[latent] = float(values.max()) if len(values) else 0.0
    images = load_images(source)
    return VisionDashboards(boards, {str(i): thumbnail(images[i]) for i in sorted(used)}, maxima)


def _top_images(image_of_row: np.ndarray, values: np.ndarray, n: int) -> list[int]:
    """Images by their largest activation of the latent, strongest first."""
    best: dict[int, float] = {}
    for image, value in zip(image_of_row.tolist(), values.tolist(), strict=True):
        best[image] = max(best.get(image, 0.0), value)
    return sorted(best, key=lambda i: -best[i])[:n]


def _square(grid: np.ndarray) -> list[list[float]]:
    """The positions of one image as a `[side][side]` grid (a leading class token dropped)."""
    side = math.isqrt(len(grid))
    if side * side != len(grid):
        grid, side = grid[1:], math.isqrt(len(grid) - 1)
    return np.round(grid.reshape(side, side), 3).tolist()


def thumbnail(image: torch.Tensor) -> str:
    """`[3, H, W]` in [0, 1] -> a square JPEG data URI of THUMBNAIL pixels."""
    small = F.interpolate(
        image[None], size=(THUMBNAIL, THUMBNAIL), mode="bilinear", antialias=True
    )[0]
    pixels = (small.permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
