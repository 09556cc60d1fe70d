"""Reference autoencoders for ground-truth disentanglement studies: a plain AE, a beta-VAE and a
QLAE sharing one encoder/decoder shape, and their trainer on dSprites-like images."""

from saekit.analysis.reference_models.autoencoders import (
    AE,
    QLAE,
    BetaVAE,
    LossOutput,
    ReferenceAutoencoder,
)
from saekit.analysis.reference_models.scoring import ScoringConfig, score_reference
from saekit.analysis.reference_models.training import (
    ReferenceTrainConfig,
    TrainedReference,
    build_reference,
    train_reference,
)

__all__ = [
    "AE",
    "QLAE",
    "BetaVAE",
    "LossOutput",
    "ReferenceAutoencoder",
    "ReferenceTrainConfig",
    "ScoringConfig",
    "TrainedReference",
    "build_reference",
    "score_reference",
    "train_reference",
]
