"""Circuit results (`circuits.json` from `saekit circuits`): the task and the model's capability,
every method's ROC-AUC against the patching truth and wall time, and the run's figures."""

from dataclasses import dataclass
from pathlib import Path

from saekit.analysis.circuits.results import CIRCUITS, FIGURES, load_circuits
from saekit.reports import plots
from saekit.reports.sections import Section


@dataclass(frozen=True)
class CircuitsItem:
    title: str
    capability: str
    thresholds: list[str]
    rows: list[tuple[str, list[float], float]]
    """(method, ROC-AUC per threshold, seconds)."""
    figures: dict[str, str]


def load(path: Path, shown: str) -> CircuitsItem:
    results = load_circuits(path.parent)
    able = results["capability"]
    capability = (
        f"clean metric {able['clean_metric']:.3f} (accuracy {able['clean_accuracy']:.2f}), "
        f"corrupted {able['corrupt_metric']:.3f}"
    )
    if not results["can_do"]:
        capability += " — the model cannot do this task: not scored"
    methods = results.get("methods", [])
    thresholds = list(methods[0]["roc_auc"]) if methods else []
    rows = [(m["method"], [m["roc_auc"][t] for t in thresholds], m["seconds"]) for m in methods]
    figures = {
        name: plots.png_uri(p.read_bytes())
        for name in FIGURES
        if (p := path.parent / name).is_file()
    }
    title = f"{results['task']} on {results['model']}"
    return CircuitsItem(title, capability, thresholds, rows, figures)


SECTION = Section("circuits", "Circuits", lambda p: p.name == CIRCUITS, load, "circuits.html.j2")
