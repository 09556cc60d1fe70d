"""Auto-interp results (`results.jsonl` from `saekit interpret`) found in the `--analyses`
folders: each latent's explanation and scores, joined to the feature browser."""

import json
from pathlib import Path

from saekit.analysis.autointerp.record import LatentRecord
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
            record = LatentRecord.from_json(line)
        except (json.JSONDecodeError, TypeError, AttributeError):
            continue  # a line torn by a crash: the run resumes past it
        if record.skipped is None:
            out[record.latent] = {"explanation": record.explanation, "scores": record.flat_scores()}
    return out
