"""Where a result came from: saekit version, git commit, content fingerprints."""

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from saekit.version import __version__


def git_commit() -> str | None:
    """The commit of the saekit checkout in use, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance() -> dict[str, Any]:
    return {"saekit_version": __version__, "git_commit": git_commit()}


def fingerprint(obj: Any) -> str:
    """sha256 of a JSON-serialisable object (keys sorted), for comparing configs and data."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
