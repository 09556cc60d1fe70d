"""`architecture` string (as stored in cfg.json) -> dictionary class."""

from saekit.sae.base import Dictionary
from saekit.sae.batchtopk import BatchTopKSAE
from saekit.sae.codebook import CodebookAutoencoder
from saekit.sae.config import DictionaryConfig
from saekit.sae.gated import GatedSAE
from saekit.sae.jumprelu import JumpReLUSAE
from saekit.sae.matryoshka import MatryoshkaSAE
from saekit.sae.quantized import QLAE
from saekit.sae.standard import StandardSAE
from saekit.sae.topk import TopKSAE

REGISTRY: dict[str, type[Dictionary]] = {
    cls.architecture: cls
    for cls in (
        StandardSAE,
        TopKSAE,
        BatchTopKSAE,
        JumpReLUSAE,
        GatedSAE,
        MatryoshkaSAE,
        CodebookAutoencoder,
        QLAE,
    )
}


def build(cfg: DictionaryConfig) -> Dictionary:
    """A freshly initialised dictionary of `cfg.architecture`."""
    return REGISTRY[cfg.architecture](cfg)
