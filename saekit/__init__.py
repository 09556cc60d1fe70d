"""saekit: harvest activations, train sparse and codebook dictionaries, analyse their features.

Importing saekit has no side effects and stays light: the heavy entry points are loaded on
first use.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from saekit.version import __version__

_LAZY = {
    "load_model": "saekit.models",
    "harvest": "saekit.collect",
    "CollectConfig": "saekit.collect",
    "ActivationStore": "saekit.store",
    "evaluate": "saekit.evals",
}

if TYPE_CHECKING:
    from saekit.collect import CollectConfig, harvest
    from saekit.evals import evaluate
    from saekit.models import load_model
    from saekit.store import ActivationStore

__all__ = [
    "ActivationStore",
    "CollectConfig",
    "__version__",
    "evaluate",
    "harvest",
    "load_model",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'saekit' has no attribute {name!r}")
