"""How the store's and the trainer's costs grow with the store's size. Builds stores of synthetic
rows at the default model's width (576, bfloat16, shards of 65,536 rows, written through the
same StoreWriter a harvest uses), then measures each in a fresh process: opening (size check;
sha256 of every shard), peak memory while iterating shuffled batches, batches/s, the time to
seek a resumed run to the middle of a pass, the manifest's size and the bytes written to it
while the store was built, and training vectors/s at several widths.

    python benchmarks/scale.py [--sizes 1000000 5000000 20000000] [--widths 4096 16384 65536]
        [--folder bench_out/scale] [--keep]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from cpu_features import cpu_line

from saekit.store import ActivationStore
from saekit.store.manifest import HookInfo, Manifest
from saekit.store.rows import acts_key
from saekit.store.writer import StoreWriter

D_MODEL, SHARD_ROWS, HOOK, BATCH = 576, 65_536, "blocks.6.hook_resid_post", 4096


def build(folder: Path, rows: int) -> dict:
    """Write a store of `rows` synthetic rows; returns build seconds and manifest traffic."""
    written = {"writes": 0, "bytes": 0}
    original = Manifest.write

    def counting(self: Manifest, where: Path) -> None:
        written["writes"] += 1
        written["bytes"] += len(self.to_json().encode())
        original(self, where)

    Manifest.write = counting
    manifest = Manifest(
        model="synthetic",
        hooks={HOOK: HookInfo(module="synthetic", site="output", shape=[D_MODEL], d=D_MODEL)},
        dtype="bfloat16",
        context_length=None,
        resume_key={"rows": rows},
        config={},
        provenance={},
    )
    start = time.perf_counter()
    writer = StoreWriter.open(folder, manifest)
    generator = torch.Generator().manual_seed(0)
    for number, first in enumerate(range(0, rows, SHARD_ROWS)):
        n = min(SHARD_ROWS, rows - first)
        tensors = {
            acts_key(HOOK): torch.randn(n, D_MODEL, generator=generator).to(torch.bfloat16),
            "tokens": torch.full((n,), -1, dtype=torch.int64),
            "positions": torch.zeros(n, dtype=torch.int64),
            "windows": torch.arange(first, first + n, dtype=torch.int64),
        }
        writer.add_shard(tensors, number, 1, {HOOK: 0}, number)
    writer.finish()
    Manifest.write = original
    return {"build_s": time.perf_counter() - start, "manifest_writes": written["writes"]} | {
        "manifest_bytes_written": written["bytes"]
    }


def memory() -> dict:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    mb = {k: int(status[k].split()[0]) / 1024 for k in ("VmHWM", "RssAnon", "RssFile")}
    return {"peak_rss_mb": mb["VmHWM"], "anon_rss_mb": mb["RssAnon"], "file_rss_mb": mb["RssFile"]}


def measure(folder: Path, widths: list[int], batches: int, steps: int) -> dict:
    """Run in a fresh process per store, so its memory figures are this store's alone."""
    from saekit.sae import DictionaryConfig
    from saekit.train import TrainConfig, train
    from saekit.train.sources import StoreSource

    out = {}
    start = time.perf_counter()
    ActivationStore.open(folder, verify="size")
    out["open_size_s"] = time.perf_counter() - start
    start = time.perf_counter()
    store = ActivationStore.open(folder, verify="sha256")
    out["open_sha256_s"] = time.perf_counter() - start
    out["manifest_kb"] = (folder / "manifest.json").stat().st_size / 1024
    source = StoreSource(store)
    start = time.perf_counter()
    for _, batch in zip(range(batches), source.batches(BATCH, seed=0), strict=False):
        batch[HOOK].float().sum()
    out["batches_per_s"] = batches / (time.perf_counter() - start)
    out |= {f"iterate_{k}": v for k, v in memory().items()}
    middle = store.batches_per_pass(BATCH, [HOOK]) // 2
    start = time.perf_counter()
    next(iter(source.batches(BATCH, seed=0, start=middle)))
    out["seek_middle_s"] = time.perf_counter() - start
    for width in widths:
        timed = {}
        for run_steps in (2, 2 + steps):  # the difference leaves out set-up and the first steps
            config = TrainConfig(
                DictionaryConfig("topk", width, k=32, hook_name=HOOK),
                tokens=run_steps * BATCH,
                batch_size=BATCH,
                holdout=0.0,
            )
            with tempfile.TemporaryDirectory() as sae:
                start = time.perf_counter()
                train(source, config, sae, progress=False)
                timed[run_steps] = time.perf_counter() - start
        out[f"train_{width}_vps"] = steps * BATCH / (timed[2 + steps] - timed[2])
    return out | {f"final_{k}": v for k, v in memory().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--widths", type=int, nargs="+", default=[4096, 16384, 65536])
    parser.add_argument("--batches", type=int, default=200, help="shuffled batches timed")
    parser.add_argument("--steps", type=int, default=20, help="training steps timed per width")
    parser.add_argument("--folder", type=Path, default=Path("bench_out/scale"))
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.widths, args.batches, args.steps)))
        return
    print(cpu_line(), flush=True)
    for rows in args.sizes:
        folder = args.folder / f"rows_{rows}"
        built = build(folder, rows) if not (folder / "manifest.json").exists() else {}
        command = [sys.executable, __file__, "--measure", str(folder), "--widths"]
        command += [str(w) for w in args.widths]
        command += ["--batches", str(args.batches), "--steps", str(args.steps)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = {"rows": rows, "shards": -(-rows // SHARD_ROWS)} | built
        result |= json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(result), flush=True)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(folder)], check=True)


if __name__ == "__main__":
    main()
