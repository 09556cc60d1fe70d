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


def register_architecture(cls: type[Dictionary]) -> type[Dictionary]:
    """Make an architecture buildable, loadable and trainable by its `architecture` name (usable
    as a class decorator)."""
    if cls.architecture in REGISTRY:
        raise ValueError(f"an architecture named {cls.architecture!r} is already registered")
    REGISTRY[cls.architecture] = cls
    return cls


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
    cls = dictionary_class(cfg.architecture)
    cls.check_config(cfg)
    return cls(cfg)


def check_training_config(cfg: DictionaryConfig) -> None:
    """A config to train from: buildable, and no field set that its architecture ignores."""
    cls = dictionary_class(cfg.architecture)
    cls.check_config(cfg)
    unused = cls.unused_fields(cfg)
    if unused:
        flags = ", ".join("--" + name.replace("_", "-") for name in unused)
        reads = ", ".join(cls.read_fields())
        raise ValueError(
            f"{flags} set, but a {cfg.architecture} dictionary does not read "
            f"{'it' if len(unused) == 1 else 'them'}: leave {'it' if len(unused) == 1 else 'them'} "
            f"out (it reads: {reads or 'no architecture-specific field'})"
        )
