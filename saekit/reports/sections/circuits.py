"""Circuit results (`circuits.json` from `saekit circuits`): the task and the model's capability,
every method's ROC-AUC against each ground truth (patching, response) and wall time, and the
run's figures."""

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
    rows: list[tuple[str, str, list[float], float]]
    """(method, ground truth, ROC-AUC per threshold, seconds)."""
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
    rows = []
    for m in results.get("methods", []):
        for truth, by_threshold in _by_truth(m["roc_auc"]).items():
            rows.append((m["method"], truth, list(by_threshold.values()), m["seconds"]))
    first = results.get("methods", [{"roc_auc": {}}])[0]["roc_auc"]
    thresholds = list(next(iter(_by_truth(first).values()), {}))
    figures = {
        name: plots.png_uri(p.read_bytes())
        for name in FIGURES
        if (p := path.parent / name).is_file()
    }
    title = f"{results['task']} on {results['model']}"
    return CircuitsItem(title, capability, thresholds, rows, figures)


def _by_truth(roc_auc: dict) -> dict[str, dict[str, float]]:
    """Truth -> threshold -> AUC (results written before the second truth: patching only)."""
    flat = any(isinstance(v, int | float) for v in roc_auc.values())
    return {"patching": roc_auc} if flat else roc_auc


SECTION = Section("circuits", "Circuits", lambda p: p.name == CIRCUITS, load, "circuits.html.j2")
