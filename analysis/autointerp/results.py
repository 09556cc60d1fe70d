"""Results as JSONL, one line per latent, appended and flushed as each latent finishes so a
crash loses at most the latent in progress; a torn last line is dropped on resume."""

import json
import os
from pathlib import Path

from saekit.analysis.autointerp.record import LatentRecord
from saekit.artifacts import write_text_atomic
from saekit.jsonl import jsonl_lines

RESULTS = "results.jsonl"


def read_results(folder: Path) -> dict[int, LatentRecord]:
    """Complete lines by latent; a torn last line (from a crash) is cut off the file."""
    path = folder / RESULTS
    if not path.exists():
        return {}
    lines = jsonl_lines(path.read_text(), keepends=True)
    done, kept = {}, []
    for line in lines:
        try:
            record = LatentRecord.from_json(line)
        except json.JSONDecodeError:
            break
        if not line.endswith("\n"):
            break
        done[record.latent] = record
        kept.append(line)
    if len(kept) < len(lines):
        write_text_atomic(path, "".join(kept))
    return done


class ResultWriter:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / RESULTS

    def append(self, record: LatentRecord) -> None:
        with open(self.path, "a") as f:
            f.write(record.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
