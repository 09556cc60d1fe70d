"""Auto-interp results (`results.jsonl` from `saekit interpret`) found in the `--analyses`
folders: each latent's explanation and scores, joined to the feature browser."""

import json
from pathlib import Path

from saekit.analysis.autointerp.results import RESULTS
from saekit.jsonl import jsonl_lines


def find_interpretations(folders: list[Path]) -> dict[int, dict]:
    """Per latent `{"explanation", "scores": {scorer.metric: value}}`, from every
    `results.jsonl` in `folders` (searched recursively)."""
    found: dict[int, dict] = {}
    for folder in folders:
        for path in sorted(folder.rglob(RESULTS)):
            found |= _interpretations(path)
    return found


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
