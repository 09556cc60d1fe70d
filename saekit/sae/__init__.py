"""Sparse dictionaries: one file per architecture over a shared base, a registry, and readers
and writers for saekit / SAELens / sparsify folders."""

from saekit.sae.base import Dictionary, ForwardOutput, TrainStepOutput
from saekit.sae.config import ARCHITECTURES, DictionaryConfig
from saekit.sae.formats import load, save, save_sparsify
from saekit.sae.registry import REGISTRY, build

__all__ = [
    "ARCHITECTURES",
    "REGISTRY",
    "Dictionary",
    "DictionaryConfig",
    "ForwardOutput",
    "TrainStepOutput",
    "build",
    "load",
    "save",
    "save_sparsify",
]
