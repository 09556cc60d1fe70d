"""The report's figures, drawn with matplotlib and embedded as PNG data URIs (no file beside the
report, no network)."""

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def data_uri(fig: Figure, dpi: int = 90) -> str:
    """The figure as a base64 PNG data URI (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def png_uri(data: bytes) -> str:
    """An existing PNG file's bytes as a data URI."""
    return "data:image/png;base64," + base64.b64encode(data).decode()


def training_curves(records: Sequence[Mapping[str, float]]) -> str:
    """One panel per logged metric against the step (from `metrics.jsonl`)."""
    names = sorted({k for r in records for k, v in r.items() if k != "step" and _number(v)})
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        points = [(r["step"], r[name]) for r in records if _number(r.get(name))]
        ax.plot(*zip(*points, strict=True), lw=1.2)
        ax.set(title=name, xlabel="step")
        if name in ("loss", "mse", "fvu") and all(v > 0 for _, v in points):
            ax.set_yscale("log")
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return data_uri(fig)


def density_histogram(density: np.ndarray) -> str:
    """log10 firing density of the live latents, dead latents counted in the title."""
    live = density[density > 0]
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.hist(np.log10(live), bins=40, color="#4c72b0")
    ax.set(
        xlabel="log10 firing density",
        ylabel="latents",
        title=f"{len(live)} live latents, {len(density) - len(live)} dead",
    )
    return data_uri(fig)


def heatmap(matrix: np.ndarray, title: str, xlabel: str, ylabel: str) -> str:
    return data_uri(heatmap_figure(matrix, title, xlabel, ylabel))


def heatmap_figure(matrix: np.ndarray, title: str, xlabel: str, ylabel: str) -> Figure:
    """Rows and columns are indices: the ticks are whole numbers."""
    fig, ax = plt.subplots(figsize=(min(3 + matrix.shape[1] * 0.5, 12), 3 + matrix.shape[0] * 0.03))
    image = ax.imshow(matrix, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def probe_curves(curves: Sequence[Mapping]) -> str:
    """Probe accuracy against layer, one line per concept set."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for curve in curves:
        ax.plot(
            range(len(curve["accuracy"])), curve["accuracy"], marker=".", label=curve["concept"]
        )
    ax.set(xlabel="layer", ylabel="held-out accuracy", title="linear probes by layer")
    ax.legend(fontsize=8)
    return data_uri(fig)


def _number(value) -> bool:
    return isinstance(value, int | float) and np.isfinite(value)
