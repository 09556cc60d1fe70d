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

import torch

from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import DictionaryConfig
from saekit.train import ArraySource, TrainConfig, train
from saekit.train.optimizers import OPTIMIZERS

DATASETS = {  # name: (d, true features, p_active, width, k)
    "sparse (d64, 256 features, 2.6 active)": (64, 256, 0.01, 512, 8),
    "medium (d128, 1024 features, 5 active)": (128, 1024, 0.005, 2048, 16),
    "dense (d256, 2048 features, 20 active)": (256, 2048, 0.01, 4096, 32),
}


@torch.no_grad()
def quality(sae, held_out: torch.Tensor, features: torch.Tensor) -> dict:
    out = sae(held_out)
    total = (held_out - held_out.mean(0)).pow(2).sum()
    recovery = feature_recovery(features, sae.W_dec)
    return {
        "fvu": float((held_out - out.reconstruction).pow(2).sum() / total),
        "mmcs": recovery.mmcs,
        "recovered": recovery.fraction_recovered,
        "dead": float((~(out.latents > 0).any(0)).float().mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"{'dataset':42s} {'vectors':>8s} {'batch':>5s} {'optimizer':>19s} "
        f"{'FVU':>7s} {'MMCS':>6s} {'>0.9':>6s} {'dead':>5s} {'s':>5s}",
        flush=True,
    )
    for name in args.datasets:
        d, n_features, p_active, width, k = DATASETS[name]
        toy = toy_superposition(n_features, d, max(args.vectors) + 20_000, p_active, seed=args.seed)
        held_out = toy.x[-20_000:]
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
            (sae,) = train(
                ArraySource({"x": toy.x[:vectors]}),
                config,
                tempfile.mkdtemp(prefix="saekit-optimizer-study-"),
                progress=False,
            )
            q = quality(sae, held_out, toy.features)
            print(
                f"{name:42s} {vectors:8d} {batch:5d} {optimizer:>19s} {q['fvu']:7.4f} "
                f"{q['mmcs']:6.3f} {q['recovered']:6.3f} {q['dead']:5.2f} "
                f"{time.perf_counter() - start:5.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
