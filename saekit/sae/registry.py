"""`architecture` string (as stored in cfg.json) -> dictionary class: the one list of
architectures every other list (config checks, command-line choices, tests) is derived from."""

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
ARCHITECTURES = tuple(REGISTRY)


def dictionary_class(architecture: str) -> type[Dictionary]:
    """The class of an architecture name, or an error that lists the valid names."""
    if architecture not in REGISTRY:
        raise ValueError(
            f"unknown architecture {architecture!r}: choose one of {', '.join(ARCHITECTURES)}"
        )
    return REGISTRY[architecture]


def build(cfg: DictionaryConfig) -> Dictionary:
    """A freshly initialised dictionary of `cfg.architecture` (its `d_in` must be set)."""
    if cfg.d_in is None:
        raise ValueError("the dictionary config has no d_in: set it to the input width")
    return dictionary_class(cfg.architecture)(cfg)
