"""Disentanglement tables (`saekit disentangle --out T.json`): every score with its interval
(none when the table was computed without resamples) and the normalised-MI heatmap from
`T.nmi.npy`."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from saekit.analysis.disentanglement.table import load_table, nmi_path
from saekit.reports import plots
from saekit.reports.sections import Section


@dataclass(frozen=True)
class DisentanglementItem:
    file: str
    rows: list[tuple[str, str, float, float | None, float | None]]
    """(metric, score, value, low, high); low and high None without an interval."""
    figure: str | None


def _interval(low: float, high: float) -> tuple[float | None, float | None]:
    return (low, high) if high > low else (None, None)


def load(path: Path, shown: str) -> DisentanglementItem:
    table = load_table(path)
    rows = [
        (metric, score, e.value, *_interval(e.low, e.high))
        for metric, result in table.items()
        for score, e in result.scores.items()
    ]
    nmi_file = nmi_path(path)
    figure = None
    if nmi_file.is_file():
        nmi = np.load(nmi_file)
        figure = plots.heatmap(nmi.T, "normalised mutual information", "factor", "latent")
    return DisentanglementItem(shown, rows, figure)


def shows(path: Path) -> bool:
    if path.suffix != ".json":
        return False
    try:
        load_table(path)
    except ValueError:
        return False
    return True


SECTION = Section("disentanglement", "Disentanglement", shows, load, "disentanglement.html.j2")
