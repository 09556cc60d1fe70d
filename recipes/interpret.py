"""Auto-interp on the demo's outputs (`make interpret`, after `make demo`), offline.

1. Ground truth: features whose meaning is known (indicators of digits, month names, pronouns, …
   on the demo store's tokens). For every scorer with the offline judge: the true explanation
   against another feature's (a derangement), paired over features (Wilcoxon, one-sided), and
   where the no-model explainer's explanations land between the two.
2. The demo SAE's latents against the raw neurons at the same hook (delphi's claim: latents are
   more interpretable; a neuron fires above its own 99th percentile), the same number of each,
   explained by the token-frequency explainer and scored by every scorer (intervention: latents
   only); the time split per stage.
Results in interpret_out/ (ground_truth.json, latents/ and neurons/ results.jsonl, summary.json).
"""

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

import saekit
from saekit.analysis.autointerp.clients import LocalClient
from saekit.analysis.autointerp.examples import ExampleConfig, collect_examples
from saekit.analysis.autointerp.explainers import LLMExplainer, TokenFrequencyExplainer
from saekit.analysis.autointerp.ground_truth import KNOWN_FEATURES, known_source, shuffled
from saekit.analysis.autointerp.latents import parse_latents
from saekit.analysis.autointerp.pipeline import InterpretConfig, interpret
from saekit.analysis.autointerp.scorers.registry import (
    DEFAULT_SCORERS,
    SCORERS,
    ScorerInputs,
    make_scorers,
)
from saekit.analysis.autointerp.summary import summarise, summary_text
from saekit.analysis.autointerp.vocab import vocab_projection
from saekit.analysis.embeddings import SentenceEmbedder
from saekit.latents.sources import DictionarySource, NeuronSource
from saekit.sae import load

HOOK = "blocks.6.hook_resid_post"


def ground_truth(model, store, scorers, explainers, cfg: ExampleConfig) -> dict:
    source = known_source(model.tokenizer)
    embed = SentenceEmbedder().token_embedder(model.tokenizer)
    found = collect_examples(source, store, range(source.n_latents), cfg, embed)
    features = sorted(found.latents)
    true = [KNOWN_FEATURES[i].explanation for i in features]
    sets = {"true": true, "shuffled": shuffled(true)}
    for explainer in explainers:
        sets[explainer.name] = [
            e.text for e in explainer.explain([found.latents[i] for i in features])
        ]
    out = {
        "features": [KNOWN_FEATURES[i].name for i in features],
        "explanations": sets,
        "scorers": {},
    }
    for scorer in scorers:
        auc = {  # an explanation that could not be parsed ('') is not scored
            name: [
                scorer.score(found.latents[i], text).metrics["roc_auc"] if text else None
                for i, text in zip(features, texts, strict=True)
            ]
            for name, texts in sets.items()
        }
        p = wilcoxon(auc["true"], auc["shuffled"], alternative="greater").pvalue
        out["scorers"][scorer.name] = {"roc_auc": auc, "p_true_over_shuffled": float(p)}
        means = ", ".join(
            f"{k} {np.mean([a for a in v if a is not None]):.3f} ({sum(a is not None for a in v)})"
            for k, v in auc.items()
            if any(a is not None for a in v)
        )
        print(f"  {scorer.name:10s} mean ROC-AUC: {means}; p(true > shuffled) = {p:.3g}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, default=Path("demo_out"))
    parser.add_argument("--out", type=Path, default=Path("interpret_out"))
    parser.add_argument("--latents", type=int, default=12, help="latents (and neurons) scored")
    parser.add_argument("--llm", action="store_true", help="also the local LLM explainer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    store_path, sae_path = args.demo / "acts_smollm2_l6", args.demo / "sae_topk_l6"
    if not (store_path / "manifest.json").exists() or not sae_path.exists():
        raise SystemExit(f"{args.demo} has no demo store and SAE: run `make demo` first")
    model = saekit.load_model("smollm2-135m")
    store = saekit.ActivationStore.open(store_path, verify="size")
    sae = load(sae_path)
    client = LocalClient(model)
    inputs = ScorerInputs(client, model, SentenceEmbedder(), seed=0, dictionary=None)
    scorers = make_scorers(DEFAULT_SCORERS, inputs)
    explainers = [TokenFrequencyExplainer(model.tokenizer)]
    explainers += [LLMExplainer(client, model.tokenizer)] if args.llm else []
    args.out.mkdir(parents=True, exist_ok=True)

    print("Ground truth (known features, offline judge SmolLM2-135M-Instruct):")
    small = ExampleConfig(n_train=10, n_quantiles=5, test_per_quantile=2, n_random=6, n_hard=4)
    truth = ground_truth(model, store, scorers, explainers, small)
    (args.out / "ground_truth.json").write_text(json.dumps(truth, indent=1))

    spec = f"random:{args.latents}"
    latents = parse_latents(spec, sae.cfg.d_sae)
    runs = {  # intervention steers a dictionary latent: not defined for neurons
        "latents": (DictionarySource(sae), vocab_projection(sae, model, latents), SCORERS),
        "neurons": (NeuronSource.from_store(store, HOOK), None, DEFAULT_SCORERS),
    }
    summary = {}
    for name, (source, vocab, scorer_names) in runs.items():
        config = InterpretConfig(latents=spec, scorers=list(scorer_names), examples=small)
        start = time.perf_counter()
        run = interpret(source, store, model, args.out / name, config, vocab)
        scored = sum(r.skipped is None for r in run.results.values())
        split = {k: round(v) for k, v in run.seconds.items()}
        print(f"\n{name} ({time.perf_counter() - start:.0f} s; seconds per stage {split}):")
        print(summary_text(run.results))
        summary[name] = {
            "summary": summarise(run.results),
            "seconds": run.seconds,
            "scored": scored,
        }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nresults in {args.out}/")


if __name__ == "__main__":
    main()
