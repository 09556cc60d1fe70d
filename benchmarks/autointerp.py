"""Auto-interp throughput on this machine with the offline defaults: latents explained and
scored per minute, per scorer, and the time split (examples / explain / each scorer).

    python benchmarks/autointerp.py [--latents 8] [--explainer token-frequency]

Needs the demo's store and SAE (`make demo`)."""

import argparse
import tempfile
import time
from pathlib import Path

import saekit
from saekit.analysis.autointerp.examples import ExampleConfig
from saekit.analysis.autointerp.explainers import EXPLAINERS
from saekit.analysis.autointerp.latents import parse_latents
from saekit.analysis.autointerp.pipeline import InterpretConfig, interpret
from saekit.analysis.autointerp.vocab import vocab_projection
from saekit.latents.sources import DictionarySource
from saekit.sae import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, default=Path("demo_out"))
    parser.add_argument("--latents", type=int, default=8)
    parser.add_argument("--explainer", choices=EXPLAINERS, default="token-frequency")
    args = parser.parse_args()
    model = saekit.load_model("smollm2-135m")
    store = saekit.ActivationStore.open(args.demo / "acts_smollm2_l6", verify="size")
    sae = load(args.demo / "sae_topk_l6")
    spec = f"random:{args.latents}"
    vocab = vocab_projection(sae, model, parse_latents(spec, sae.cfg.d_sae, seed=7))
    cfg = InterpretConfig(latents=spec, explainer=args.explainer, examples=ExampleConfig(seed=7))
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run = interpret(DictionarySource(sae), store, model, out, cfg, vocab)
        total = time.perf_counter() - start
    scored = sum(r.skipped is None for r in run.results.values())
    print(
        f"{scored} latents scored in {total:.0f} s: {60 * scored / total:.2f} latents/min overall"
    )
    for stage, seconds in run.seconds.items():
        per_minute = f"{60 * scored / seconds:8.1f} latents/min" if seconds > 0 else ""
        print(f"  {stage:10s} {seconds:7.1f} s  {seconds / total:5.1%}  {per_minute}")


if __name__ == "__main__":
    main()
