"""Analyses found in the folders given to the report, each turned into a section: probing
curves (`probes.json`), circuit results (`results.json` with its heatmaps and ROC plot),
disentanglement tables (`saekit disentangle --out T.json`, with `T.nmi.npy` for the normalised MI
heatmap) and auto-interp results (`results.jsonl`, joined to the feature browser)."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from saekit.analysis.autointerp.results import RESULTS
from saekit.analysis.disentanglement.table import nmi_path
from saekit.analysis.probing.results import PROBES, ProbeResults
from saekit.jsonl import jsonl_lines
from saekit.reports import plots
from saekit.reports.paths import shown_path

CIRCUIT_RESULTS = "results.json"
CIRCUIT_FIGURES = ("patching.png", "mean-ablation.png", "atp.png", "roc.png")


@dataclass
class Analyses:
    probing: list[dict] = field(default_factory=list)
    """Per folder: `{"folder", "curves", "figure"}`."""
    circuits: list[dict] = field(default_factory=list)
    """Per folder: `{"folder", "results", "figures"}`."""
    disentanglement: list[dict] = field(default_factory=list)
    """Per table: `{"file", "rows": [(metric, score, value, low, high)], "figure"}`."""
    interpretations: dict[int, dict] = field(default_factory=dict)
    """Per latent: `{"explanation", "scores": {scorer.metric: value}}`."""

    def present(self) -> dict[str, bool]:
        return {
            "probing": bool(self.probing),
            "circuits": bool(self.circuits),
            "disentanglement": bool(self.disentanglement),
            "auto-interp": bool(self.interpretations),
        }


def find_analyses(folders: list[str | Path], base: Path) -> Analyses:
    """Every analysis result in `folders` (searched recursively); paths are shown relative to
    `base` (the report's folder) or to the folder's parent."""
    found = Analyses()
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(f"analysis folder {folder} does not exist")
        for path in sorted(folder.rglob("*")):
            _add(found, path, shown_path(path.parent, base, folder.parent))
    return found


def _add(found: Analyses, path: Path, shown_folder: str) -> None:
    shown_file = f"{shown_folder}/{path.name}"
    if path.name == PROBES:
        curves = [asdict(c) for c in ProbeResults.load(path.parent).curves]
        found.probing.append(
            {"folder": shown_folder, "curves": curves, "figure": plots.probe_curves(curves)}
        )
    elif path.name == CIRCUIT_RESULTS and "task" in (results := _json(path)):
        figures = {
            f: plots.png_uri(p.read_bytes())
            for f in CIRCUIT_FIGURES
            if (p := path.parent / f).is_file()
        }
        found.circuits.append({"folder": shown_folder, "results": results, "figures": figures})
    elif path.name == RESULTS:
        found.interpretations |= _interpretations(path)
    elif path.suffix == ".json" and _is_metric_table(table := _json(path)):
        found.disentanglement.append(_disentanglement(path, table) | {"file": shown_file})


def _json(path: Path) -> dict:
    try:
        loaded = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _is_metric_table(table: dict) -> bool:
    return bool(table) and all(isinstance(v, dict) and "scores" in v for v in table.values())


def _disentanglement(path: Path, table: dict) -> dict:
    rows = [
        (metric, score, e["value"], *_interval(e))
        for metric, result in table.items()
        for score, e in result["scores"].items()
    ]
    nmi_file = nmi_path(path)
    figure = None
    if nmi_file.is_file():
        nmi = np.load(nmi_file)
        figure = plots.heatmap(nmi.T, "normalised mutual information", "factor", "latent")
    return {"rows": rows, "figure": figure}


def _interval(estimate: dict) -> tuple[float | None, float | None]:
    """(low, high), or (None, None) for a score computed once (no resamples: low == high)."""
    low, high = estimate.get("low"), estimate.get("high")
    return (low, high) if low is not None and high is not None and high > low else (None, None)


def _interpretations(path: Path) -> dict[int, dict]:
    """Explanations and numeric scores by latent (read only: `read_results` would also cut a
    torn last line off the file, which a report must not do)."""
    out = {}
    for line in jsonl_lines(path.read_text()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash: the run resumes past it
        if "explanation" not in record:
            continue
        scores = {
            f"{scorer}.{name}": value
            for scorer, metrics in record.get("scores", {}).items()
            for name, value in metrics.items()
            if isinstance(value, int | float)
        }
        out[int(record["latent"])] = {"explanation": record["explanation"], "scores": scores}
    return out
