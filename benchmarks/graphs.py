"""Attribution graphs on SmolLM2-135M through a transcoder set: per prompt, the wall time and
peak memory of `saekit graph` (each in its own process), node and edge counts before and after
pruning, the replacement and completeness scores, and how well the graph predicts interventions
in the model (Pearson correlation over the interventions, attention recomputed and frozen).

    python benchmarks/graphs.py [--transcoders graph_out/transcoders] [--out bench_out/graphs]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from cpu_features import cpu_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recipes"))
from graph import CANDIDATES  # noqa: E402

LONG_PROMPT = (
    "In the small village by the river, the old baker woke before dawn every day to bake fresh "
    "bread for the families who lived nearby, and the little children"
)
"""About 32 tokens: the size the speed and memory target is stated for."""


def run(prompt: str, transcoders: str, out: Path, interventions: int) -> dict:
    command = [sys.executable, "-m", "saekit", "graph", "--transcoders", transcoders]
    command += ["--prompt", prompt, "--out", str(out), "--interventions", str(interventions)]
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads((out / "graph_summary.json").read_text())


def row(summary: dict) -> str:
    nodes, edges, scores = summary["nodes"], summary["edges"], summary["scores"]
    check = summary.get("validation", {})
    by_influence = summary.get("validation_by_influence", {})
    at_last = summary.get("validation_at_last", {})
    cells = [
        repr(summary["prompt"][:40]),
        str(len(summary["tokens"])),
        f"{summary['seconds']['graph']:.1f}",
        f"{summary['peak_memory_mb'] / 1024:.2f}",
        str(nodes["features"]),
        f"{edges['nonzero'] / 1e6:.1f}M",
        f"{nodes['kept']} ({nodes['kept_features']})",
        str(edges["kept"]),
        f"{scores['replacement']:.3f}",
        f"{scores['completeness']:.3f}",
    ]
    for key in ("recomputed", "attention_frozen", "frozen", "pruned", "atp"):
        key = f"correlation_{key}"
        cells.append(f"{check[key]:.3f}" if key in check else "-")
    key = "correlation_recomputed"
    for other in (at_last, by_influence):
        cells.append(f"{other[key]:.3f}" if key in other else "-")
    for key in ("rank_correlation_recomputed", "sign_agreement_recomputed"):
        cells.append(f"{check[key]:.3f}" if key in check else "-")
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| prompt | tokens | graph s | peak GB | features | edges | kept nodes (features) | kept edges "
    "| replacement | completeness | r recomputed | r attention frozen | r frozen | r pruned "
    "| r AtP | r recomputed, last position | r recomputed, most influential | ρ recomputed "
    "| sign agreement |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transcoders", default="graph_out/transcoders")
    parser.add_argument("--out", default="bench_out/graphs")
    parser.add_argument("--interventions", type=int, default=20)
    args = parser.parse_args()
    print(cpu_line())
    prompts = [prompt for prompt, _ in CANDIDATES[:3]] + [LONG_PROMPT]
    print(HEADER)
    for index, prompt in enumerate(prompts):
        summary = run(prompt, args.transcoders, Path(args.out) / str(index), args.interventions)
        print(row(summary), flush=True)


if __name__ == "__main__":
    main()
