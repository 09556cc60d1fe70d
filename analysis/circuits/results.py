"""The circuits stage's output file: `circuits.json` in the run's folder (beside its heatmaps
and ROC plot), written atomically, read back by the report."""

import json
from pathlib import Path

from saekit.artifacts import write_text_atomic

CIRCUITS = "circuits.json"
FIGURES = ("patching.png", "mean-ablation.png", "atp.png", "atp-ig.png", "roc.png")
"""The figures `run_circuits` may draw beside it."""


def save_circuits(results: dict, folder: str | Path) -> Path:
    path = Path(folder) / CIRCUITS
    write_text_atomic(path, json.dumps(results, indent=1))
    return path


def load_circuits(folder: str | Path) -> dict:
    """A run's results: task, model, capability, can_do, methods (and truth, feature_circuit)."""
    results = json.loads((Path(folder) / CIRCUITS).read_text())
    missing = {"task", "model", "capability", "can_do"} - set(results)
    if missing:
        raise ValueError(f"{Path(folder) / CIRCUITS} lacks {sorted(missing)}: not circuits results")
    return results
