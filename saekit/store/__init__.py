"""The activation store: a folder of `manifest.json` + `shards/NNNNN.safetensors`."""

from saekit.store.manifest import Manifest, ShardInfo, StoreError
from saekit.store.reader import ActivationStore
from saekit.store.writer import StoreWriter

__all__ = ["ActivationStore", "Manifest", "ShardInfo", "StoreError", "StoreWriter"]
