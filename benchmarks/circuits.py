"""Circuit-discovery methods against per-head activation patching on the default model, in one
run: per task and method, ROC-AUC against the patching ground truth, wall time and the speed-up
over patching; each method against both ground truths (patching: the heads the metric depends
on; response: as many heads, those whose output changes most under the corruption).
`python benchmarks/circuits.py [--tasks ioi] [--prompts 64] [--trials 10]`."""

import argparse
import tempfile

from saekit import load_model
from saekit.analysis.circuits.run import CircuitsConfig, run_circuits, summary_lines
from saekit.analysis.circuits.tasks import TASKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    model = load_model(args.model, "cpu")
    methods = ["patching", "atp", "atp-ig", "discrete-sae", "discrete-sae-saekit"]
    with tempfile.TemporaryDirectory() as out:
        for task in args.tasks:
            config = CircuitsConfig(task, methods, args.prompts, args.trials)
            print("\n".join(summary_lines(run_circuits(model, config, f"{out}/{task}"))))


if __name__ == "__main__":
    main()
