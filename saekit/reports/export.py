"""Export feature dashboards as Neuronpedia / SAEDashboard-style JSON, one file per feature, so
results move to the tools people already use. Field names follow Neuronpedia's feature records
(`pos_str`/`pos_values`, `frac_nonzero`, `freq_hist_data_bar_heights`/`_values` as parallel
arrays of bar heights and bar centres, `activations` with `tokens` and `values`)."""

import json
from pathlib import Path

from saekit.artifacts import write_text_atomic


def neuronpedia_feature(
    feature: dict, board: dict, tokens: dict[str, str], model_id: str, layer: str
) -> dict:
    """One feature's record from the report's feature entry and dashboard."""
    hist = board["hist"]
    edges = hist["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    promoted, suppressed = board.get("promoted", []), board.get("suppressed", [])
    record = {
        "modelId": model_id,
        "layer": layer,
        "index": str(feature["id"]),
        "maxActApprox": feature["max"],
        "frac_nonzero": feature["density"],
        "pos_str": [t for t, _ in promoted],
        "pos_values": [v for _, v in promoted],
        "neg_str": [t for t, _ in suppressed],
        "neg_values": [v for _, v in suppressed],
        "freq_hist_data_bar_heights": hist["counts"],
        "freq_hist_data_bar_values": centres,
        "activations": [_activation(c, tokens) for c in board.get("top", [])],
        "explanations": [],
    }
    if feature.get("explanation"):
        score = next(iter(feature.get("scores", {}).values()), None)
        record["explanations"].append({"description": feature["explanation"], "score": score})
    return record


def _activation(context: dict, tokens: dict[str, str]) -> dict:
    values = context["a"]
    peak = max(range(len(values)), key=values.__getitem__)
    return {
        "tokens": [tokens.get(str(t), f"<{t}>") for t in context["t"]],
        "values": values,
        "maxValue": values[peak],
        "maxValueTokenIndex": peak,
    }


def export_neuronpedia(
    data: dict, dashboards: dict[str, dict], folder: str | Path, model_id: str, layer: str
) -> list[Path]:
    """`folder/<latent>.json` for every feature with a dashboard; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for feature in data["features"]:
        board = dashboards.get(str(feature["id"]))
        if board is None:
            continue
        record = neuronpedia_feature(feature, board, data["tokens"], model_id, layer)
        path = folder / f"{feature['id']}.json"
        write_text_atomic(path, json.dumps(record))
        paths.append(path)
    return paths
