"""Which training recipe should saekit's TopK default be? Trains the same dictionary with recipe
variants (the default, other optimizers, and the default with one setting changed) on the
benchmark datasets, at several batch sizes and training lengths, and prints held-out quality —
the evidence behind `TrainConfig`'s defaults.

    python benchmarks/recipe_study.py [--datasets sparse medium dense smollm2-l6]
        [--variants defaults adam no-warmup …] [--vectors 500000 2000000] [--batch-sizes 1024 4096]
"""

import argparse
import contextlib
import dataclasses
import itertools
import tempfile
import time
from pathlib import Path

import torch
from training_data import STORE_SET, TOY_SETS, Dataset, quality, store_dataset, toy_dataset

from saekit.sae import DictionaryConfig, topk
from saekit.train import ArraySource, TrainConfig, train
from saekit.train.optimizers import ScheduleFree

VARIANTS = {  # name: TrainConfig (or DictionaryConfig) settings changed from the defaults
    "defaults": {},
    "adam": {"optimizer": "adam"},
    "signum": {"optimizer": "signum"},
    "no-warmup": {"warmup_steps": 0},
    "warmup-200": {"warmup_steps": 200},
    "no-normalize": {"normalize_activations": False},
    "input-norm-1": {"input_norm": 1.0},
    "input-norm-0.5": {"input_norm": 0.5},
    "input-norm-0.125": {"input_norm": 0.125},
    "no-auxk": {"dead_window": 10**12},
    "before-encoder-scale": {  # until 2026-12-05
        "encoder_lr_scale": 1.0,
        "dead_window": 200_000,
        "latent_step_exponent": 0.0,
    },
    "no-latent-step": {"latent_step_exponent": 0.0},  # every latent at the encoder's scale
    "latent-step-0.5": {"latent_step_exponent": 0.5},
    "latent-step-0.25": {"latent_step_exponent": 0.25},
    "encoder-lr-1": {"encoder_lr_scale": 1.0},  # the encoder at the decoder's rate
    "dead-window-200k": {"dead_window": 200_000},
    "dead-window-10k": {"dead_window": 10_000},
    "encoder-lr-0.5": {"encoder_lr_scale": 0.5},
    "encoder-lr-0.35": {"encoder_lr_scale": 0.354},
    "encoder-lr-0.25": {"encoder_lr_scale": 0.25},
    "encoder-lr-0.6": {"encoder_lr_scale": 0.595},
    "encoder-lr-0.21": {"encoder_lr_scale": 0.21},
    "dead-window-50k": {"dead_window": 50_000},
    "dead-window-50k-auxk-all-rows": {"dead_window": 50_000},  # and AuxK on every row (below)
    "mean-init": {"geometric_median_init": False},
    "rank-fp32": {"rank_precision": "float32"},
    "encoder-init-0.5": {"encoder_init_norm": 0.5},
    "encoder-init-1": {"encoder_init_norm": 1.0},
    "lr-half": {"lr_factor": 0.5},  # the default learning rate for the width, halved
    "lr-0.7": {"lr_factor": 0.7},
    "lr-quarter": {"lr_factor": 0.25},
    "lr-horizon": {"lr_factor": lambda steps: min(1.0, (150 / steps) ** 0.5)},  # ~1/sqrt(steps)
    "constrain-all": {},  # the default with the decoder constraint on z and x too (below)
    "auxk-all-rows": {},  # the default with AuxK on every row of the batch (below)
    "auxk-quarter-rows": {},  # AuxK on a quarter of the default's rows (below)
    "auxk-half-rows": {},
}


@torch.no_grad()
def constrain_every_sequence(self: ScheduleFree, param, project) -> None:
    """The earlier schedule-free constraint, kept for the `constrain-all` variant: project the
    base sequence z and the average x as well as y."""
    i = self.index(param)
    z, x = self.z[i], self.x[i]
    project(z)
    project(x)
    project(param.copy_(x).lerp_(z, 1 - self.momentum))


def auxk_on_every_row(k: int, k_aux: int) -> int:
    """The earlier AuxK, kept for the `auxk-all-rows` variant: every row of the batch."""
    return 1


def auxk_on_fewer_rows(share: int):
    return lambda k, k_aux: max(1, k_aux // k) * share


DICTIONARY_FIELDS = {f.name for f in dataclasses.fields(DictionaryConfig)}

PATCHES = {  # variant: (owner, attribute, replacement) swapped in while it trains
    "constrain-all": (ScheduleFree, "constrain", constrain_every_sequence),
    "auxk-all-rows": (topk, "auxk_stride", auxk_on_every_row),
    "dead-window-50k-auxk-all-rows": (topk, "auxk_stride", auxk_on_every_row),
    "auxk-quarter-rows": (topk, "auxk_stride", auxk_on_fewer_rows(4)),
    "auxk-half-rows": (topk, "auxk_stride", auxk_on_fewer_rows(2)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(TOY_SETS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--vectors", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--store", type=Path, default=Path("bench_out/acts_smollm2_l6_320k"))
    parser.add_argument("--store-tokens", type=int, default=320_000)
    parser.add_argument("--hook", default="blocks.6.hook_resid_post")
    args = parser.parse_args()
    print(
        f"{'dataset':10s} {'vectors':>8s} {'batch':>5s} {'seed':>4s} {'variant':>13s} "
        f"{'FVU':>7s} {'stdFVU':>7s} {'L0':>5s} {'dead':>5s} {'MMCS':>6s} {'>0.9':>6s} {'s':>5s}",
        flush=True,
    )
    for name in args.datasets:
        if name == STORE_SET:
            data = store_dataset(args.store, args.hook, args.store_tokens, 4608, 32)
        else:
            data = toy_dataset(name, max(args.vectors))
        compare(data, args)


def compare(data: Dataset, args) -> None:
    """Every variant at every length, batch size and seed on one dataset (training rows are
    cycled when a run needs more than there are)."""
    for vectors, batch, seed, variant in itertools.product(
        args.vectors, args.batch_sizes, range(args.seeds), args.variants
    ):
        config = variant_config(variant, data, tokens=vectors, batch_size=batch, seed=seed)
        start = time.perf_counter()
        with patched(variant), tempfile.TemporaryDirectory(prefix="saekit-recipe-") as folder:
            (sae,) = train(ArraySource({"x": data.train[:vectors]}), config, folder, progress=False)
        q = {"mmcs": float("nan"), "recovered": float("nan")} | quality(sae, data)
        print(
            f"{data.name:10s} {vectors:8d} {batch:5d} {seed:4d} {variant:>13s} {q['fvu']:7.4f} "
            f"{q['std_fvu']:7.4f} {q['l0']:5.1f} {100 * q['dead']:4.1f}% {q['mmcs']:6.3f} "
            f"{q['recovered']:6.3f} {time.perf_counter() - start:5.0f}",
            flush=True,
        )


def variant_config(variant: str, data: Dataset, **run) -> TrainConfig:
    """The default TopK recipe for the dataset with the variant's settings, for one run."""
    settings = VARIANTS[variant]
    dictionary = {k: v for k, v in settings.items() if k in DICTIONARY_FIELDS}
    training = {k: v for k, v in settings.items() if k not in DICTIONARY_FIELDS | {"lr_factor"}}
    config = TrainConfig(
        DictionaryConfig(architecture="topk", d_sae=data.width, k=data.k, **dictionary),
        **run,
        **training,
    )
    if "lr_factor" in settings:
        factor = settings["lr_factor"]  # a number, or a function of the run's steps
        factor = factor(config.steps) if callable(factor) else factor
        config = dataclasses.replace(config, lr=config.peak_lr(data.width) * factor)
    return config


@contextlib.contextmanager
def patched(variant: str):
    """Swap in the variant's replacement (`PATCHES`), if it has one, while it trains."""
    if variant not in PATCHES:
        yield
        return
    owner, attribute, replacement = PATCHES[variant]
    default = getattr(owner, attribute)
    setattr(owner, attribute, replacement)
    try:
        yield
    finally:
        setattr(owner, attribute, default)


if __name__ == "__main__":
    main()
