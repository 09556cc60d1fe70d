"""Training helpers for tests: `python -m saekit train …` arguments, flat-settings configs and
a source that crashes midway (a killed run)."""

from dataclasses import fields
from pathlib import Path

from saekit.sae import DictionaryConfig, dictionary_class
from saekit.sae.config import ARCHITECTURE_FIELDS
from saekit.train import TrainConfig
from saekit.train.sources import ALL, StoreSource


def train_args(acts: Path, out: Path, **flags) -> list[str]:
    """`-m saekit train` arguments; flags by Python name (batch_size -> --batch-size)."""
    args = ["-m", "saekit", "train", "--acts", str(acts), "--out", str(out)]
    for name, value in flags.items():
        args += ["--" + name.replace("_", "-"), str(value)]
    return args


def train_config(**settings) -> TrainConfig:
    """A TrainConfig from flat settings shared by several tests: dictionary fields go into the
    nested DictionaryConfig, less the architecture-specific ones its architecture does not read
    (which training refuses)."""
    names = {f.name for f in fields(DictionaryConfig)}
    cls = dictionary_class(settings.get("architecture", DictionaryConfig.architecture))
    ignored = set(ARCHITECTURE_FIELDS) - set(cls.read_fields())
    dictionary = DictionaryConfig(
        **{k: v for k, v in settings.items() if k in names and k not in ignored}
    )
    return TrainConfig(dictionary, **{k: v for k, v in settings.items() if k not in names})


class Crash(Exception):
    pass


def crashing(source, after: int, holdout: float = TrainConfig.holdout):
    """The same source (a store's held out as `train` holds it out), raising (like a killed
    process) after `after` batches."""
    if isinstance(source, StoreSource):
        source = source.without_held_out(holdout)

    class Crashing:
        hooks, dim, fingerprint = source.hooks, source.dim, source.fingerprint
        held_out = getattr(source, "held_out", None)

        def batches(self, batch_size, seed, start=0, part=ALL):
            for i, batch in enumerate(source.batches(batch_size, seed, start, part)):
                if i == after:
                    raise Crash
                yield batch

    return Crashing()
