"""The data behind each vision feature's dashboard: the images where the latent fires hardest,
each with the latent's activation over the model's spatial grid upsampled and overlaid (JPEG data
URIs), and the histogram of its activations. The images are rebuilt from the store's manifest
(its image source), rows of one image being its grid positions in row-major order."""

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from saekit.analysis.autointerp.firing import latent_firing
from saekit.analysis.autointerp.sources import DictionarySource
from saekit.data.images import load_images
from saekit.reports.dashboards import DashboardConfig, histogram
from saekit.sae import Dictionary
from saekit.store import ActivationStore

THUMBNAIL = 128
"""Side of each dashboard image, in pixels."""


@dataclass
class VisionDashboards:
    dashboards: dict[int, dict]
    """Per latent: `images` (`{"src", "value", "caption"}`, strongest first) and `hist`."""
    max_activation: dict[int, float]


def vision_dashboards(
    dictionary: Dictionary,
    store: ActivationStore,
    latents: Sequence[int],
    cfg: DashboardConfig | None = None,
) -> VisionDashboards:
    """Dashboards for `latents` with the top `cfg.top` images of each (at most 12 shown)."""
    cfg = cfg or DashboardConfig()
    source = store.manifest.config.get("data")
    if not isinstance(source, str):
        raise ValueError("the store was harvested from in-memory images: they cannot be rebuilt")
    images = load_images(source)
    firing = latent_firing(DictionarySource(dictionary, dictionary.cfg.hook_name), store, latents)
    windows = store.windows[: firing.n_rows].numpy()
    first = np.searchsorted(windows, np.arange(len(images) + 1))
    boards, maxima = {}, {}
    for index, latent in enumerate(latents):
        rows, values = firing.rows[index], firing.values[index]
        shown = []
        for image in _top_images(windows[rows], values, min(cfg.top, 12)):
            start, end = first[image], first[image + 1]
            grid = firing.values_at(index, start, end)
            shown.append(_overlay(images[image], grid, float(grid.max()), image))
        boards[latent] = {"images": shown, "hist": histogram(values, cfg.bins)}
        maxima[latent] = float(values.max()) if len(values) else 0.0
    return VisionDashboards(boards, maxima)


def _top_images(image_of_row: np.ndarray, values: np.ndarray, n: int) -> list[int]:
    """Images by their largest activation of the latent, strongest first."""
    best: dict[int, float] = {}
    for image, value in zip(image_of_row.tolist(), values.tolist(), strict=True):
        best[image] = max(best.get(image, 0.0), value)
    return sorted(best, key=lambda i: -best[i])[:n]


def _overlay(image: torch.Tensor, grid: np.ndarray, peak: float, number: int) -> dict:
    side = math.isqrt(len(grid))
    if side * side != len(grid):  # a class token first (ViT): drop it
        grid, side = grid[1:], math.isqrt(len(grid) - 1)
    pixels = F.interpolate(
        image[None], size=(THUMBNAIL, THUMBNAIL), mode="bilinear", antialias=True
    )
    heat = torch.as_tensor(grid, dtype=torch.float32).view(1, 1, side, side)
    heat = F.interpolate(heat, size=(THUMBNAIL, THUMBNAIL), mode="bilinear")[0, 0]
    heat = (heat / max(peak, 1e-9)).clamp(0, 1).numpy()
    colour = matplotlib.colormaps["inferno"](heat)[..., :3]
    alpha = 0.15 + 0.6 * heat[..., None]
    base = pixels[0].permute(1, 2, 0).clamp(0, 1).numpy()
    blended = (1 - alpha) * base + alpha * colour
    buffer = io.BytesIO()
    Image.fromarray((blended * 255).astype(np.uint8)).save(buffer, format="JPEG", quality=80)
    src = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"src": src, "value": round(peak, 4), "caption": f"image {number}"}
