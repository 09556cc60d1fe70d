"""Results as JSONL, one line per latent, appended and flushed as each latent finishes so a
crash loses at most the latent in progress; a torn last line is dropped on resume."""

import json
import os
from pathlib import Path

from saekit.artifacts import write_text_atomic
from saekit.jsonl import jsonl_lines

RESULTS = "results.jsonl"


def read_results(folder: Path) -> dict[int, dict]:
    """Complete lines by latent; a torn last line (from a crash) is cut off the file."""
    path = folder / RESULTS
    if not path.exists():
        return {}
    lines = jsonl_lines(path.read_text(), keepends=True)
    done, kept = {}, []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            break
        if not line.endswith("\n"):
            break
        done[int(record["latent"])] = record
        kept.append(line)
    if len(kept) < len(lines):
        write_text_atomic(path, "".join(kept))
    return done


class ResultWriter:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / RESULTS

    def append(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
