"""Train TopK dictionaries with saekit, SAELens and sparsify — each with its own defaults (what its
users get) and with matched settings (Adam, one learning rate, warm-up, AuxK and dead window) —
on the same rows in the same order, and compare quality and speed.

    python benchmarks/train_vs_peers.py [--datasets sparse medium dense smollm2-l6 mobilenet-f18]
        [--batch-sizes 1024 4096] [--vectors 500000 2000000] [--seeds 3] [--out results.jsonl]
        [--trainers saekit sae-lens sparsify] [--modes defaults matched]

Datasets: toy models of superposition of several difficulties (true directions known: MMCS and
the fraction recovered) and real SmolLM2 layer-6 residuals from a store (harvested on first use;
held out by window: FVU, FVU of standardised activations, and the LM loss recovered with the
dictionary spliced in); `mobilenet-f18`, the vision recipe's MobileNetV2 store (`make vision`
first). Every trainer sees the same number of training vectors. The peers run in
their own environment (`--peers-venv`, made on first use: torch==2.13.0 first, then sae-lens
and eai-sparsify). Within a cell the trainers' order rotates with the seed, because this
machine's speed drifts; tables show medians over seeds and speed ratios are taken per seed.
Every result is appended to `--out` as it lands.
"""

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from cpu_features import ISA_LIMITS, cpu_line, limit_isa
from training_data import (
    STORE_SET,
    TOY_SETS,
    VISION_SET,
    Dataset,
    quality,
    store_dataset,
    toy_dataset,
    vision_dataset,
)

from saekit.sae import load

HERE = Path(__file__).resolve().parent
WORKERS = {"saekit": "run_saekit.py", "sae-lens": "run_saelens.py", "sparsify": "run_sparsify.py"}
MODES = ("defaults", "matched")
METRICS = ("fvu", "std_fvu", "l0", "dead", "dead_train", "mmcs", "recovered", "loss_recovered")


def ensure_peers_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, before the peers
        subprocess.run([*pip, "sae-lens", "eai-sparsify"], check=True)
    return python


def write_order(folder: Path, n_rows: int, vectors: int, seed: int) -> Path:
    """Row indices every trainer reads, in order: seeded permutations of the training rows,
    one after another until `vectors` are drawn."""
    gen = torch.Generator().manual_seed(seed)
    passes = -(-vectors // n_rows)
    order = torch.cat([torch.randperm(n_rows, generator=gen) for _ in range(passes)])[:vectors]
    path = folder / f"order-{vectors}-{seed}.npy"
    np.save(path, order.numpy())
    return path


def run_worker(python: str, job: dict, folder: Path) -> dict:
    name = f"{job['trainer']}-{job['mode']}-{job['batch_size']}-{job['vectors']}-{job['seed']}"
    job = job | {"out": str(folder / name), "result": str(folder / f"{name}.result.json")}
    job_file = folder / f"{name}.json"
    job_file.write_text(json.dumps(job))
    done = subprocess.run(
        [python, str(HERE / "peers" / WORKERS[job["trainer"]]), str(job_file)],
        cwd=HERE / "peers",
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-4000:]}")
    timing = json.loads(Path(job["result"]).read_text())
    return timing | {"folder": job["out"]}


def load_datasets(args) -> list[Dataset]:
    datasets = []
    for name in args.datasets:
        if name == STORE_SET:
            datasets.append(
                store_dataset(args.store, args.hook, args.store_tokens, args.store_width, 32)
            )
        elif name == VISION_SET:
            datasets.append(vision_dataset())
        else:
            datasets.append(toy_dataset(name, max(args.vectors)))
    return datasets


def run_cell(
    data: Dataset, cell: dict, runs: list[tuple[str, str]], pythons: dict, folder: Path, model, log
) -> list[dict]:
    """The (trainer, mode) runs on one dataset, batch size, length and seed."""
    order = write_order(folder, data.train.shape[0], cell["vectors"], cell["seed"])
    shift = cell["seed"] % len(runs)
    rows = []
    for trainer, mode in runs[shift:] + runs[:shift]:
        job = cell | {
            "train": str(folder / "train.npy"),
            "order": str(order),
            "width": data.width,
            "k": data.k,
            "trainer": trainer,
            "mode": mode,
        }
        timing = run_worker(pythons[trainer], job, folder)
        scores = quality(load(timing["folder"]), data, model)
        row = {"dataset": data.name, "trainer": trainer, "mode": mode} | cell | scores
        row |= {"cpu_capability": timing.get("cpu_capability")}
        row |= {"kernel_path": timing.get("kernel_path")} if "kernel_path" in timing else {}
        row |= {"vps": timing["vectors"] / timing["seconds"], "peak_rss_mb": timing["peak_rss_mb"]}
        rows.append(row)
        log.write(json.dumps(row) + "\n")
        log.flush()
        print(
            f"  {data.name:10s} b{cell['batch_size']:<5d} {cell['vectors']:>8d} s{cell['seed']} "
            f"{trainer:9s} {mode:8s} {row['vps']:8.0f} vec/s  fvu {row['fvu']:.4f}  "
            f"std {row['std_fvu']:.4f}  l0 {row['l0']:5.1f}  "
            f"dead {row['dead']:.3f} (train {row['dead_train']:.3f})"
            + (f"  kernels {row['kernel_path']}" if "kernel_path" in row else "")
            + (f"  mmcs {row['mmcs']:.3f}" if "mmcs" in row else "")
            + (f"  LR {row['loss_recovered']:.3f}" if "loss_recovered" in row else ""),
            flush=True,
        )
    return rows


def summarise(rows: list[dict]) -> None:
    """Medians over seeds per cell, then saekit's defaults against the best peer default and
    saekit's speed against each peer in the same mode."""
    cells = sorted({(r["dataset"], r["batch_size"], r["vectors"]) for r in rows})
    header = f"{'trainer':9s} {'mode':8s} {'vec/s':>8s} " + " ".join(f"{m:>8s}" for m in METRICS)
    for dataset, batch, vectors in cells:
        here = [r for r in rows if cell_key(r) == (dataset, batch, vectors)]
        print(f"\n{dataset}, batch {batch}, {vectors} vectors ({len(here)} runs)\n{header}")
        medians = {}
        for trainer, mode in itertools.product(WORKERS, MODES):
            mine = [r for r in here if (r["trainer"], r["mode"]) == (trainer, mode)]
            if not mine:
                continue
            med = {m: median_of(mine, m) for m in ("vps", *METRICS)}
            medians[trainer, mode] = med
            values = " ".join(f"{med[m]:8.4f}" for m in METRICS)
            print(
                f"{trainer:9s} {mode:8s} {med['vps']:8.0f} {values.replace('     nan', '       -')}"
            )
        print_comparisons(here, medians)


def print_markdown(rows: list[dict]) -> None:
    """One line per dataset, batch size and length: each trainer's median FVU (standardised
    FVU; MMCS or loss recovered) and vectors/s, own defaults then matched."""
    columns = list(itertools.product(WORKERS, MODES))
    print("\n| data, batch | " + " | ".join(f"{t} {m}" for t, m in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for dataset, batch, vectors in sorted({cell_key(r) for r in rows}):
        cells = []
        for trainer, mode in columns:
            mine = [
                r
                for r in rows
                if cell_key(r) == (dataset, batch, vectors)
                and (r["trainer"], r["mode"]) == (trainer, mode)
            ]
            if not mine:
                cells.append("–")
                continue
            third = "mmcs" if "mmcs" in mine[0] else "loss_recovered"
            cells.append(
                f"{median_of(mine, 'fvu'):.3f} ({median_of(mine, 'std_fvu'):.3f}; "
                f"{median_of(mine, third):.2f}) · {median_of(mine, 'vps') / 1000:.0f}k/s"
            )
        print(f"| {dataset}, {batch}, {vectors // 1000}k | " + " | ".join(cells) + " |")


def cell_key(row: dict) -> tuple:
    return row["dataset"], row["batch_size"], row["vectors"]


def median_of(rows: list[dict], metric: str) -> float:
    values = [r[metric] for r in rows if metric in r]
    return statistics.median(values) if values else float("nan")


def print_comparisons(here: list[dict], medians: dict) -> None:
    ours = medians.get(("saekit", "defaults"))
    peers = {t: m for (t, mode), m in medians.items() if mode == "defaults" and t != "saekit"}
    if ours and peers:
        best = min(peers, key=lambda t: peers[t]["std_fvu"])
        verdict = "wins" if ours["std_fvu"] < peers[best]["std_fvu"] else "loses"
        print(
            f"defaults: saekit std-FVU {ours['std_fvu']:.4f} vs best peer ({best}) "
            f"{peers[best]['std_fvu']:.4f}: saekit {verdict}"
        )
    for peer, mode in itertools.product(list(WORKERS)[1:], MODES):
        a = sorted((r for r in here if (r["trainer"], r["mode"]) == ("saekit", mode)), key=seed)
        b = sorted((r for r in here if (r["trainer"], r["mode"]) == (peer, mode)), key=seed)
        if a and len(a) == len(b):
            ratios = [x["vps"] / y["vps"] for x, y in zip(a, b, strict=True)]
            print(
                f"speed saekit/{peer} ({mode}): per seed {[round(x, 2) for x in ratios]}, "
                f"median {statistics.median(ratios):.2f}x"
            )


def seed(row: dict) -> int:
    return row["seed"]


def matmul_peak_gflops(batch: int, d: int, width: int, repeat: int = 5) -> float:
    """This machine's dense fp32 matmul rate at the encoder's shape."""
    a, b = torch.randn(batch, d), torch.randn(d, width)
    a @ b
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * batch * d * width * repeat / (time.perf_counter() - start) / 1e9


def print_peak_fraction(rows: list[dict], datasets: list[Dataset]) -> None:
    for data in datasets:
        mine = [r for r in rows if r["dataset"] == data.name and r["trainer"] == "saekit"]
        for batch in sorted({r["batch_size"] for r in mine}):
            vps = statistics.median(r["vps"] for r in mine if r["batch_size"] == batch)
            d = data.train.shape[1]
            peak = matmul_peak_gflops(batch, d, data.width)
            used = 2 * d * data.width * vps / 1e9
            print(
                f"{data.name} batch {batch}: the encoder matmul alone runs at {peak:.0f} GFLOP/s; "
                f"saekit's median step does that work at {used:.0f} GFLOP/s ({used / peak:.0%})"
            )


def run_dataset(data: Dataset, args, pythons: dict, model, log) -> list[dict]:
    """Every cell (batch size, length, seed) of one dataset, its training rows written once as
    .npy for every worker into a temporary folder that also holds the runs' outputs."""
    print(data.describe(), flush=True)
    rows: list[dict] = []
    runs = list(itertools.product(args.trainers, args.modes))
    with tempfile.TemporaryDirectory(prefix="saekit-vs-peers-") as tmp:
        folder = Path(tmp)
        np.save(folder / "train.npy", data.train.numpy())
        for batch, vectors, s in itertools.product(
            args.batch_sizes, args.vectors, range(args.seeds)
        ):
            cell = {"batch_size": batch, "vectors": vectors, "seed": s}
            cell |= {"lr": args.lr, "warmup": args.warmup, "dead_window": 10 * batch}
            rows += run_cell(data, cell, runs, pythons, folder, model, log)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=[*TOY_SETS, STORE_SET])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--vectors", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--seeds", type=int, default=3, help="repeats (trainer seed and order)")
    parser.add_argument("--trainers", nargs="+", choices=list(WORKERS), default=list(WORKERS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--lr", type=float, default=4e-4, help="matched runs' Adam lr")
    parser.add_argument("--warmup", type=int, default=10, help="matched runs' warm-up steps")
    parser.add_argument("--store", type=Path, default=Path("bench_out/acts_smollm2_l6_320k"))
    parser.add_argument("--store-tokens", type=int, default=320_000)
    parser.add_argument("--store-width", type=int, default=4608)
    parser.add_argument("--hook", default="blocks.6.hook_resid_post")
    parser.add_argument("--peers-venv", type=Path, default=Path(".bench-venv"))
    parser.add_argument("--out", type=Path, default=Path("bench_out/train_vs_peers.jsonl"))
    parser.add_argument(
        "--summarise", type=Path, help="print the tables of a results file and a markdown table"
    )
    parser.add_argument(
        "--isa",
        choices=list(ISA_LIMITS),
        default="native",
        help="avx2: hold every trainer (PyTorch, oneDNN, MKL, saekit's kernels) to AVX2",
    )
    args = parser.parse_args()
    if args.summarise:
        rows = [json.loads(line) for line in args.summarise.read_text().splitlines()]
        summarise(rows)
        print_markdown(rows)
        return

    limit_isa(args.isa)
    print(cpu_line(args.isa), flush=True)
    peers_python = str(ensure_peers_venv(args.peers_venv.resolve()))
    pythons = {"saekit": sys.executable, "sae-lens": peers_python, "sparsify": peers_python}
    datasets = load_datasets(args)
    model = None
    if any(d.lm is not None for d in datasets):
        from saekit.models import load_model

        model = load_model("smollm2-135m", "cpu")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    with open(args.out, "a") as log:
        for data in datasets:
            rows += run_dataset(data, args, pythons, model, log)
    summarise(rows)
    print(f"\n{torch.get_num_threads()} threads; every run in {args.out}")
    print_peak_fraction(rows, datasets)


if __name__ == "__main__":
    main()
