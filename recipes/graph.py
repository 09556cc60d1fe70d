"""Attribution graphs on the offline default model (`make graph`): train a transcoder for every
MLP (or reuse the set in OUT/transcoders), evaluate the set, check which candidate prompts the
model answers right, and build, prune and validate a graph for three of them. Then
`saekit report --dictionary … --acts … --analyses OUT/graphs` shows them (or open
`OUT/graphs/*/neuronpedia/*.json` in circuit-tracer's or Neuronpedia's viewer).

    python recipes/graph.py --out graph_out [--tokens 300000] [--d-sae 2048] [--k 16] [--skip]
"""

import argparse
import json
import logging
from pathlib import Path

import torch

from saekit import load_model
from saekit.analysis.graphs.evaluate import evaluate_set
from saekit.analysis.graphs.run import GraphConfig, run_graph, slug_of
from saekit.analysis.graphs.targets import prompt_tokens
from saekit.analysis.graphs.transcoders import (
    TranscoderSetConfig,
    held_back_windows,
    load_transcoder_set,
    train_transcoder_set,
)

CANDIDATES = [
    ("When Mary and John went to the store, John gave a drink to", " Mary"),
    ("The capital of France is", " Paris"),
    ("The opposite of hot is", " cold"),
    ("The Eiffel Tower is located in the city of", " Paris"),
    ("When Tom and Anna arrived at the party, Anna handed the gift to", " Tom"),
]
"""Prompts and the answer the model should give (the first three it gets right are used)."""


def answered_right(model, candidates: list[tuple[str, str]], wanted: int = 3) -> list[str]:
    chosen = []
    for prompt, answer in candidates:
        with torch.no_grad():
            logits = model.forward(prompt_tokens(model, prompt)[None])[0, -1]
        top = model.tokenizer.decode([int(logits.argmax())])
        print(f"  {prompt!r} -> {top!r} ({'right' if top == answer else 'wrong: skipped'})")
        if top == answer:
            chosen.append(prompt)
        if len(chosen) == wanted:
            break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="graph_out")
    parser.add_argument("--tokens", type=int, default=TranscoderSetConfig.tokens)
    parser.add_argument("--d-sae", type=int, default=TranscoderSetConfig.d_sae)
    parser.add_argument("--k", type=int, default=TranscoderSetConfig.k)
    parser.add_argument("--skip", action="store_true", help="skip-transcoders (affine skip map)")
    parser.add_argument("--interventions", type=int, default=GraphConfig.interventions)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    out = Path(args.out)
    model = load_model("smollm2-135m", "cpu")
    config = TranscoderSetConfig(d_sae=args.d_sae, k=args.k, tokens=args.tokens, skip=args.skip)
    print(
        f"transcoders: {config.d_sae} latents, k={config.k}, {config.tokens} tokens per layer"
        + (", skip map" if config.skip else "")
    )
    transcoders = train_transcoder_set(model, out / "transcoders", config)
    windows = held_back_windows(model, config, 16)
    quality = evaluate_set(model, transcoders, windows.inputs, ~windows.keep)
    quality.save(out / "transcoders")
    print(
        f"set: mean FVU {sum(x.fvu for x in quality.layers) / len(quality.layers):.3f}; loss "
        f"clean {quality.ce_clean:.3f}, all replaced {quality.ce_replaced:.3f}, all mean-ablated "
        f"{quality.ce_mean_ablated:.3f}"
    )
    transcoders = load_transcoder_set(out / "transcoders")
    print("prompts the model answers right:")
    for prompt in answered_right(model, CANDIDATES):
        graph_config = GraphConfig(prompt=prompt, interventions=args.interventions)
        summary = run_graph(
            model, transcoders, graph_config, out / "graphs" / slug_of(prompt), "transcoders"
        )
        print(json.dumps({k: summary[k] for k in ("prompt", "nodes", "edges", "scores")}))
        if "validation" in summary:
            print(
                f"  intervention correlation {summary['validation']['correlation_recomputed']:.3f}"
            )


if __name__ == "__main__":
    main()
