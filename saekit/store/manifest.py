"""The store's manifest: what was harvested, how, and which shards are complete.

The manifest is rewritten atomically (temporary file, fsync, rename) after every shard, so at
any moment it lists exactly the shards that are complete on disk.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saekit.artifacts import STORE_MANIFEST, write_text_atomic

FORMAT = "saekit.activation_store"
FORMAT_VERSION = 1


class StoreError(ValueError):
    """A store that cannot be used as asked: corrupt, mismatched, or not a store at all."""


@dataclass
class HookInfo:
    module: str
    """The module the hook name resolved to."""
    site: str
    shape: list[int]
    """Per-row shape before flattening (e.g. `[9, 64]` for `hook_z`); `d` is its product."""
    d: int


@dataclass
class ShardInfo:
    file: str
    rows: int
    bytes: int
    sha256: str
    first_batch: int
    """The shard holds batches `first_batch .. first_batch + n_batches - 1` of the harvest."""
    n_batches: int
    nonfinite: dict[str, int] = field(default_factory=dict)
    """Rows with a NaN or inf, per hook."""


@dataclass
class Manifest:
    model: str
    hooks: dict[str, HookInfo]
    dtype: str
    context_length: int | None
    resume_key: dict[str, Any]
    """Everything a resumed harvest must agree on; compared field by field on resume."""
    config: dict[str, Any]
    provenance: dict[str, Any]
    replaced_surrogates: int = 0
    """Lone UTF-16 surrogates in the corpus, replaced by U+FFFD before tokenizing."""
    shards: list[ShardInfo] = field(default_factory=list)
    complete: bool = False
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    def nonfinite(self) -> dict[str, int]:
        return {h: sum(s.nonfinite.get(h, 0) for s in self.shards) for h in self.hooks}

    def to_json(self) -> str:
        data = asdict(self)
        data["rows"] = self.rows
        data["nonfinite_rows"] = self.nonfinite()
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def read(cls, folder: Path) -> "Manifest":
        path = Path(folder) / STORE_MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(f"{folder} is not an activation store: no {STORE_MANIFEST}") from None
        except json.JSONDecodeError as err:
            raise StoreError(f"{path} is not valid JSON ({err}): the store is damaged") from None
        if data.get("format") != FORMAT:
            raise StoreError(f"{path} is not an activation-store manifest")
        data.pop("rows", None)
        data.pop("nonfinite_rows", None)
        data["hooks"] = {k: HookInfo(**v) for k, v in data["hooks"].items()}
        data["shards"] = [ShardInfo(**s) for s in data["shards"]]
        return cls(**data)

    def write(self, folder: Path) -> None:
        write_text_atomic(Path(folder) / STORE_MANIFEST, self.to_json())


def describe_differences(stored: dict[str, Any], requested: dict[str, Any]) -> list[str]:
    keys = sorted(set(stored) | set(requested))
    return [
        f"{k}: store has {stored.get(k)!r}, this run has {requested.get(k)!r}"
        for k in keys
        if stored.get(k) != requested.get(k)
    ]
