"""Probing curves (`probes.json` from `saekit probe`): the accuracy-by-layer plot and the depth
at which each concept becomes decodable."""

from dataclasses import dataclass
from pathlib import Path

from saekit.analysis.probing.results import PROBES, ProbeResults
from saekit.reports import plots
from saekit.reports.sections import Section


@dataclass(frozen=True)
class ProbingItem:
    file: str
    figure: str
    threshold: float
    rows: list[tuple[str, str, float]]
    """(concept, first decodable layer or "never", best accuracy)."""


def load(path: Path, shown: str) -> ProbingItem:
    curves = ProbeResults.load(path.parent).curves
    rows = [
        (c.concept, "never" if c.depth is None else str(c.depth), max(c.accuracy)) for c in curves
    ]
    figure = plots.probe_curves([{"concept": c.concept, "accuracy": c.accuracy} for c in curves])
    return ProbingItem(shown, figure, curves[0].threshold if curves else 0.0, rows)


SECTION = Section("probing", "Probing", lambda p: p.name == PROBES, load, "probing.html.j2")
