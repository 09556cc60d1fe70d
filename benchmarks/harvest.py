"""Harvest throughput against a bare forward pass of the same model on the same batches.

    python benchmarks/harvest.py [--tokens 16384] [--hook blocks.6.hook_resid_post] [--repeat 3]

Prints tokens/s for: the bare forward pass (full model, no hooks), a harvest that stops after
the hooked layer (the default), and a harvest that runs the whole model; each harvest includes
packing into rows and writing the shards to disk. Runs alternate and medians are reported,
because this machine's speed drifts between identical runs.
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

import saekit
from saekit.collect import CollectConfig, run_collect
from saekit.collect_inputs import text_inputs


def bare_forward(model, windows: torch.Tensor, batch_size: int) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, windows.shape[0], batch_size):
            model.forward(windows[i : i + batch_size])
    return windows.numel() / (time.perf_counter() - start)


def timed_harvest(model, config: CollectConfig) -> float:
    out = Path(tempfile.mkdtemp(prefix="saekit-bench-"))
    try:
        start = time.perf_counter()
        run_collect(model, config, config.data, out / "store")
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(out)
    return config.tokens / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--hook", default="blocks.6.hook_resid_post")
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--context-length", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    model = saekit.load_model(args.model)
    config = CollectConfig(
        model=args.model,
        hooks=[args.hook],
        tokens=args.tokens,
        batch_size=args.batch_size,
        context_length=args.context_length,
    )
    full = CollectConfig(**{**vars(config), "stop_early": False})
    windows = text_inputs(
        model,
        config.data,
        config.tokens,
        config.context_length,
        config.bos,
        config.exclude_special,
        config.seed,
    ).inputs
    bare_forward(model, windows[: args.batch_size], args.batch_size)  # warm-up
    runs = {"bare forward": [], "harvest (stop early)": [], "harvest (full model)": []}
    for _ in range(args.repeat):
        runs["bare forward"].append(bare_forward(model, windows, args.batch_size))
        runs["harvest (stop early)"].append(timed_harvest(model, config))
        runs["harvest (full model)"].append(timed_harvest(model, full))
    base = statistics.median(runs["bare forward"])
    print(
        f"model {args.model}, hook {args.hook}, {args.tokens} tokens, "
        f"batch {args.batch_size}x{args.context_length}, {torch.get_num_threads()} threads, "
        f"median of {args.repeat}"
    )
    for name, values in runs.items():
        rate = statistics.median(values)
        print(f"{name:24s} {rate:10.0f} tok/s   ratio to bare forward {rate / base:5.2f}")


if __name__ == "__main__":
    main()
