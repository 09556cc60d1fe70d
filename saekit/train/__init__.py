"""Training: a short loop over activation batches that delegates to the dictionary's loss."""

from saekit.train.config import TrainConfig
from saekit.train.sources import ArraySource, BatchSource, StoreSource
from saekit.train.trainer import Trainer, train

__all__ = ["ArraySource", "BatchSource", "StoreSource", "TrainConfig", "Trainer", "train"]
