"""Which optimizer should saekit's TopK recipe use? Trains the same dictionary with each
optimizer at its default learning rate on toy models of superposition of several difficulties,
at two batch sizes and two training lengths, and prints held-out FVU, MMCS and the fraction of
true features recovered (cosine > 0.9) — the evidence behind `TrainConfig.optimizer`'s default.

    python benchmarks/optimizer_study.py [--vectors 500000 2000000] [--batch-sizes 1024 4096]
"""

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import torch

from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import DictionaryConfig
from saekit.store import ActivationStore
from saekit.train import ArraySource, TrainConfig, train
from saekit.train.optimizers import OPTIMIZERS

DATASETS = {  # name: (d, true features, p_active, width, k)
    "sparse (d64, 256 features, 2.6 active)": (64, 256, 0.01, 512, 8),
    "medium (d128, 1024 features, 5 active)": (128, 1024, 0.005, 2048, 16),
    "dense (d256, 2048 features, 20 active)": (256, 2048, 0.01, 4096, 32),
}


@torch.no_grad()
def quality(sae, held_out: torch.Tensor, features: torch.Tensor | None) -> dict:
    """Held-out FVU, FVU of per-dimension standardised activations (no single large dimension
    dominates it), dead fraction, and (toy data) MMCS and the fraction recovered."""
    out = sae(held_out)
    error = held_out - out.reconstruction
    centred = held_out - held_out.mean(0)
    scale = centred.std(0).clamp_min(1e-6)
    recovery = feature_recovery(features, sae.W_dec) if features is not None else None
    return {
        "fvu": float(error.pow(2).sum() / centred.pow(2).sum()),
        "std_fvu": float((error / scale).pow(2).sum() / (centred / scale).pow(2).sum()),
        "mmcs": recovery.mmcs if recovery else float("nan"),
        "recovered": recovery.fraction_recovered if recovery else float("nan"),
        "dead": float((~(out.latents > 0).any(0)).float().mean()),
    }


def store_dataset(folder: str, hook: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffled rows of a store hook: all but the last 10 % to train on, those held out."""
    rows = ActivationStore.open(folder).activations(hook).float()
    rows = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(0))]
    cut = int(0.9 * len(rows))
    return rows[:cut], rows[cut:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", help="also a real store (e.g. demo_out/acts_smollm2_l6)")
    parser.add_argument("--hook", default="blocks.6.hook_resid_post")
    parser.add_argument("--store-width", type=int, default=2304)
    parser.add_argument("--store-k", type=int, default=32)
    args = parser.parse_args()
    print(
        f"{'dataset':42s} {'vectors':>8s} {'batch':>5s} {'optimizer':>19s} {'FVU':>7s} "
        f"{'stdFVU':>7s} {'MMCS':>6s} {'>0.9':>6s} {'dead':>5s} {'s':>5s}",
        flush=True,
    )
    for name in args.datasets:
        d, n_features, p_active, width, k = DATASETS[name]
        toy = toy_superposition(n_features, d, max(args.vectors) + 20_000, p_active, seed=args.seed)
        data = (toy.x[: max(args.vectors)], toy.x[-20_000:], toy.features)
        compare(name, data, width, k, args)
    if args.store:
        train_rows, held_out = store_dataset(args.store, args.hook)
        name = f"store {Path(args.store).name} ({len(train_rows)} rows)"
        compare(name, (train_rows, held_out, None), args.store_width, args.store_k, args)


def compare(name: str, data, width: int, k: int, args) -> None:
    """Every optimizer at every length and batch size on one dataset (training rows are cycled
    when there are fewer than the vectors asked for)."""
    train_rows, held_out, features = data
    for vectors, batch, optimizer in itertools.product(
        args.vectors, args.batch_sizes, args.optimizers
    ):
        config = TrainConfig(
            DictionaryConfig(architecture="topk", d_sae=width, k=k),
            tokens=vectors,
            batch_size=batch,
            optimizer=optimizer,
            dead_window=10 * batch,
            seed=args.seed,
        )
        start = time.perf_counter()
        folder = tempfile.mkdtemp(prefix="saekit-optimizer-study-")
        (sae,) = train(ArraySource({"x": train_rows[:vectors]}), config, folder, progress=False)
        q = quality(sae, held_out, features)
        print(
            f"{name:42s} {vectors:8d} {batch:5d} {optimizer:>19s} {q['fvu']:7.4f} "
            f"{q['std_fvu']:7.4f} {q['mmcs']:6.3f} {q['recovered']:6.3f} {q['dead']:5.2f} "
            f"{time.perf_counter() - start:5.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
