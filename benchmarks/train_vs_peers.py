"""Train the same TopK dictionary with saekit, SAELens and sparsify — same data, same order,
same number of vectors, same k, width and learning rate — each through its own trainer in its
own environment, and compare speed and quality.

    python benchmarks/train_vs_peers.py [--repeat 3] [--peers-venv .bench-venv]

Data: a toy model of superposition (true directions known, so MMCS is measurable). The peers'
environment is created on first use (torch==2.13.0 first, then sae-lens and eai-sparsify).
Trainers alternate within each repeat because this machine's speed drifts between runs; the
table shows medians, and saekit's speed ratio against each peer is taken per repeat.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from saekit.data.toy import toy_superposition
from saekit.evals.recovery import feature_recovery
from saekit.sae import load

HERE = Path(__file__).resolve().parent
WORKERS = {"saekit": "run_saekit.py", "sae-lens": "run_saelens.py", "sparsify": "run_sparsify.py"}


def ensure_peers_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, before the peers
        subprocess.run([*pip, "sae-lens", "eai-sparsify"], check=True)
    return python


def make_data(folder: Path, args) -> dict:
    toy = toy_superposition(
        n_features=args.features,
        d=args.d,
        seed=args.seed,
        n_samples=args.vectors + args.holdout,
        p_active=args.p_active,
    )
    train, held_out = toy.x[: args.vectors], toy.x[args.vectors :]
    np.save(folder / "train.npy", train.numpy())
    order = torch.randperm(args.vectors, generator=torch.Generator().manual_seed(args.seed))
    np.save(folder / "order.npy", order.numpy())
    return {"held_out": held_out, "features": toy.features}


def run_worker(name: str, python: str, job: dict, folder: Path) -> dict:
    job_file = folder / f"{name}.json"
    job_file.write_text(json.dumps(job))
    done = subprocess.run(
        [python, str(HERE / "peers" / WORKERS[name]), str(job_file)],
        cwd=HERE / "peers",
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-4000:]}")
    return json.loads(Path(job["result"]).read_text())


@torch.no_grad()
def quality(folder: str, held_out: torch.Tensor, features: torch.Tensor) -> dict:
    """Every trainer's output is read by saekit's loaders (SAELens / sparsify / saekit folders)
    and encoded with that library's own rule."""
    sae = load(folder)
    out = sae(held_out)
    fvu = (held_out - out.reconstruction).pow(2).sum() / (held_out - held_out.mean(0)).pow(2).sum()
    active = out.latents > 0
    recovery = feature_recovery(features, sae.W_dec)
    return {
        "fvu": float(fvu),
        "l0": float(active.sum(-1).float().mean()),
        "dead": float((~active.any(0)).float().mean()),
        "mmcs": recovery.mmcs,
    }


def matmul_peak_gflops(batch: int, d: int, width: int, repeat: int = 5) -> float:
    a, b = torch.randn(batch, d), torch.randn(d, width)
    a @ b
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * batch * d * width * repeat / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of all trainers")
    parser.add_argument(
        "--peers-venv",
        type=Path,
        default=Path(".bench-venv"),
        help="environment for sae-lens and eai-sparsify (made if missing)",
    )
    parser.add_argument("--d", type=int, default=256, help="activation width")
    parser.add_argument("--features", type=int, default=2048, help="true features")
    parser.add_argument("--p-active", type=float, default=0.01)
    parser.add_argument("--width", type=int, default=4096, help="dictionary latents")
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--vectors", type=int, default=491_520, help="training vectors")
    parser.add_argument("--holdout", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    peers_python = str(ensure_peers_venv(args.peers_venv.resolve()))
    pythons = {"saekit": sys.executable, "sae-lens": peers_python, "sparsify": peers_python}
    folder = Path(tempfile.mkdtemp(prefix="saekit-vs-peers-"))
    truth = make_data(folder, args)
    names = list(WORKERS)
    results: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            out = folder / f"{name}-{r}"
            job = {
                "train": str(folder / "train.npy"),
                "order": str(folder / "order.npy"),
                "width": args.width,
                "k": args.k,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "warmup": 10,
                "dead_window": 10 * args.batch_size,
                "out": str(out),
                "result": str(folder / f"{name}-{r}.result.json"),
            }
            timing = run_worker(name, pythons[name], job, folder)
            stats = quality(str(out), truth["held_out"], truth["features"])
            results[name].append(timing | stats | {"vps": timing["vectors"] / timing["seconds"]})
            print(
                f"round {r} {name:9s} {results[name][-1]['vps']:9.0f} vectors/s  "
                f"fvu {stats['fvu']:.4f}  mmcs {stats['mmcs']:.4f}",
                flush=True,
            )

    print(
        f"\n{args.vectors} vectors of d={args.d}, TopK width {args.width}, k={args.k}, "
        f"batch {args.batch_size}, lr {args.lr}, {torch.get_num_threads()} threads; "
        f"medians of {args.repeat}"
    )
    print(
        f"{'trainer':10s} {'vectors/s':>10s} {'peak MB':>8s} {'FVU':>8s} {'L0':>6s} "
        f"{'dead':>6s} {'MMCS':>7s}"
    )
    for name, rows in results.items():
        med = {
            k: statistics.median(r[k] for r in rows)
            for k in ("vps", "peak_rss_mb", "fvu", "l0", "dead", "mmcs")
        }
        print(
            f"{name:10s} {med['vps']:10.0f} {med['peak_rss_mb']:8.0f} {med['fvu']:8.4f} "
            f"{med['l0']:6.1f} {med['dead']:6.3f} {med['mmcs']:7.4f}"
        )
    for peer in names[1:]:
        ratios = [
            a["vps"] / b["vps"] for a, b in zip(results["saekit"], results[peer], strict=True)
        ]
        print(
            f"saekit / {peer}: per-repeat speed ratios {[round(x, 2) for x in ratios]}, "
            f"median {statistics.median(ratios):.2f}"
        )
    fastest = max(names[1:], key=lambda n: statistics.median(r["vps"] for r in results[n]))
    saekit_vps = statistics.median(r["vps"] for r in results["saekit"])
    fastest_vps = statistics.median(r["vps"] for r in results[fastest])
    print(f"saekit vs the fastest peer ({fastest}): {saekit_vps / fastest_vps:.2f}x")
    peak = matmul_peak_gflops(args.batch_size, args.d, args.width)
    steps_per_s = saekit_vps / args.batch_size
    used = 2 * args.batch_size * args.d * args.width * steps_per_s / 1e9
    print(
        f"dense matmul peak (encoder shape) {peak:.1f} GFLOP/s; saekit's step does one such "
        f"matmul at {used:.1f} GFLOP/s of useful work: {used / peak:.0%} of peak"
    )


if __name__ == "__main__":
    main()
