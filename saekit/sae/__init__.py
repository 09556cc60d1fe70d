"""Sparse dictionaries: one file per architecture over a shared base, a registry, and readers
and writers for saekit / SAELens / sparsify folders."""

from saekit.sae.base import Dictionary, ForwardOutput, TrainStepOutput
from saekit.sae.config import DictionaryConfig
from saekit.sae.formats import load, save, save_sparsify
from saekit.sae.registry import (
    ARCHITECTURES,
    REGISTRY,
    build,
    dictionary_class,
    register_architecture,
)

__all__ = [
    "ARCHITECTURES",
    "REGISTRY",
    "Dictionary",
    "DictionaryConfig",
    "ForwardOutput",
    "TrainStepOutput",
    "build",
    "dictionary_class",
    "load",
    "register_architecture",
    "save",
    "save_sparsify",
]
