"""Figures for circuit results: a layer x head grid per method and ROC curves against the
patching ground truth (matplotlib, written as PNG)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402

from saekit.analysis.circuits.scoring import roc_curve  # noqa: E402


def head_grid(values: Tensor, title: str, path: str | Path) -> Path:
    """Heatmap of a `[layers, heads]` grid (signed values on a diverging scale)."""
    grid = values.float().numpy()
    bound = max(float(abs(values).nan_to_num().max()), 1e-9)
    fig, ax = plt.subplots(figsize=(2.5 + grid.shape[1] * 0.35, 1.5 + grid.shape[0] * 0.2))
    signed = bool((values.nan_to_num() < 0).any())
    image = ax.imshow(
        grid,
        cmap="RdBu_r" if signed else "viridis",
        vmin=-bound if signed else 0,
        vmax=bound,
        aspect="auto",
    )
    ax.set(xlabel="head", ylabel="layer", title=title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def roc_plot(scores: dict[str, Tensor], truth: Tensor, title: str, path: str | Path) -> Path:
    """One ROC curve per method's head scores against a boolean `[layers, heads]` truth."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, values in scores.items():
        fpr, tpr = roc_curve(values.flatten(), truth.flatten())
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
