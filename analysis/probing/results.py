"""The probing stage's output: every concept set's accuracy-by-layer curve, written as
`probes.json` (and the plot `probes.png`) in a folder and read back by the report."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from saekit.analysis.probing.concepts import CONCEPT_SETS
from saekit.analysis.probing.probe import ProbeCurve, plot_curves, probe_layers
from saekit.artifacts import write_atomic, write_text_atomic
from saekit.models import LanguageModel

PROBES = "probes.json"
PROBES_PLOT = "probes.png"


@dataclass
class ProbeResults:
    curves: list[ProbeCurve]

    def save(self, folder: str | Path) -> Path:
        """`probes.json` and `probes.png` in `folder`, each written atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / PROBES, json.dumps([asdict(c) for c in self.curves], indent=1))
        write_atomic(folder / PROBES_PLOT, lambda tmp: plot_curves(self.curves, tmp))
        return folder / PROBES

    @classmethod
    def load(cls, folder: str | Path) -> "ProbeResults":
        path = Path(folder) / PROBES
        return cls([ProbeCurve(**c) for c in json.loads(path.read_text())])

    def summary_lines(self) -> list[str]:
        return [
            f"{c.concept:14s} decodable from layer {c.depth} (best {max(c.accuracy):.2f})"
            for c in self.curves
        ]


def run_probes(
    model: LanguageModel, concepts: list[str] | None = None, threshold: float = 0.8
) -> ProbeResults:
    """Probe every layer for each named concept set (default: all of `CONCEPT_SETS`)."""
    names = concepts or list(CONCEPT_SETS)
    unknown = sorted(set(names) - set(CONCEPT_SETS))
    if unknown:
        raise ValueError(f"unknown concept sets {unknown}: choose from {list(CONCEPT_SETS)}")
    return ProbeResults([probe_layers(model, CONCEPT_SETS[n](), threshold) for n in names])
