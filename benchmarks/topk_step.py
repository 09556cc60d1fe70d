"""Time one TopK training step (loss and backward, no optimizer) at a given shape and fraction
of dead latents (which turns AuxK on), optionally with `torch.profiler`'s table of operators.

    python benchmarks/topk_step.py --batch 1024 --d-in 576 --width 4608 --k 32 --dead 0.4
        [--profile]
"""

import argparse
import time

import torch

from saekit.sae import DictionaryConfig, build
from saekit.sae.kernels.sparse_ops import auto_rank_dtype


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--d-in", type=int, default=128)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--dead", type=float, default=0.0, help="fraction of latents marked dead")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    sae = build(DictionaryConfig(architecture="topk", d_in=args.d_in, d_sae=args.width, k=args.k))
    sae.rank_dtype = auto_rank_dtype(torch.device("cpu"), args.d_in)  # the trainer's default
    x = torch.randn(args.batch, args.d_in)
    dead = torch.rand(args.width) < args.dead if args.dead > 0 else None

    def step() -> None:
        sae.training_loss(x, x, dead_mask=dead).loss.backward()
        sae.zero_grad()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    print(f"{(time.perf_counter() - start) / args.steps * 1e3:.1f} ms/step")
    if args.profile:
        with torch.profiler.profile() as profile:
            for _ in range(args.steps):
                step()
        print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


if __name__ == "__main__":
    main()
