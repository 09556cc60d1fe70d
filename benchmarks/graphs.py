"""Attribution graphs on SmolLM2-135M through a transcoder set: per prompt, the wall time and
peak memory of `saekit graph` (each in its own process), node and edge counts before and after
pruning, the replacement and completeness scores, and how well the graph predicts interventions
in the model (Pearson correlation over the interventions, attention recomputed and frozen), then
the same correlation split by where the intervened features sit (layer band, last position or
earlier).

    python benchmarks/graphs.py [--transcoders graph_out/transcoders] [--out bench_out/graphs]
    python benchmarks/graphs.py --reprint bench_out/graphs/*/graph_summary.json
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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


LAYER_BANDS = {"layers 0-3": range(0, 4), "4-15": range(4, 16), "16-29": range(16, 30)}
"""SmolLM2-135M's 30 layers: the first few, the middle, the second half."""
SELECTION_KEYS = ("validation", "validation_by_influence", "validation_at_last")


def site_correlations(summary: dict) -> dict[str, list[tuple[float, float]]]:
    """(predicted, measured with attention recomputed) for every intervention the summary
    holds (each feature and kind once, whichever selection chose it), by layer band and by
    whether the feature sits at the last position."""
    seen = {}
    for key in SELECTION_KEYS:
        for x in summary.get(key, {}).get("interventions", []):
            seen[x["node_id"], x["kind"]] = (x["predicted"], x["recomputed"])
    last = len(summary["tokens"]) - 1
    sites: dict[str, list[tuple[float, float]]] = {"all": list(seen.values())}
    for (node_id, _), pair in seen.items():
        layer, _, position = map(int, node_id.split("_"))
        band = next(name for name, layers in LAYER_BANDS.items() if layer in layers)
        where = "last" if position == last else "earlier"
        sites.setdefault(f"{band}, {where}", []).append(pair)
    return sites


def pearson_cell(pairs: list[tuple[float, float]]) -> str:
    if len(pairs) < 4:
        return f"- ({len(pairs)})"
    predicted, measured = np.array(pairs).T
    return f"{np.corrcoef(predicted, measured)[0, 1]:.2f} ({len(pairs)})"


SITES = ["all"] + [f"{band}, {where}" for band in LAYER_BANDS for where in ("earlier", "last")]


def site_row(summary: dict) -> str:
    sites = site_correlations(summary)
    cells = [repr(summary["prompt"][:40]), str(len(summary["tokens"]))]
    return "| " + " | ".join(cells + [pearson_cell(sites.get(s, [])) for s in SITES]) + " |"


SITE_HEADER = "| prompt | tokens | " + " | ".join(SITES) + " |\n|" + "---|" * (len(SITES) + 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transcoders", default="graph_out/transcoders")
    parser.add_argument("--out", default="bench_out/graphs")
    parser.add_argument("--interventions", type=int, default=20)
    parser.add_argument(
        "--reprint", type=Path, nargs="+", help="print the tables of these graph_summary.json"
    )
    args = parser.parse_args()
    if args.reprint:
        summaries = [json.loads(path.read_text()) for path in args.reprint]
    else:
        print(cpu_line())
        prompts = [prompt for prompt, _ in CANDIDATES[:3]] + [LONG_PROMPT]
        print(HEADER)
        summaries = []
        for index, prompt in enumerate(prompts):
            out = Path(args.out) / str(index)
            summaries.append(run(prompt, args.transcoders, out, args.interventions))
            print(row(summaries[-1]), flush=True)
    if args.reprint:
        print(HEADER, *map(row, summaries), sep="\n")
    print("\nr recomputed (interventions) by where the features sit:", SITE_HEADER, sep="\n")
    print(*map(site_row, summaries), sep="\n")


if __name__ == "__main__":
    main()
