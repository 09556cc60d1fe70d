"""End-to-end demo on the offline defaults (`make demo`).

1. harvest SmolLM2-135M's layer-6 residual stream and head outputs (offline Wikipedia corpus)
   into a resumable store, and MobileNetV2 features on sample photos;
2. train a TopK SAE on the residual stream;
3. evaluate it: FVU, L0, dead latents, and next-token loss with the SAE spliced in;
4. feature statistics, and the top contexts of a few latents;
5. analyse: dead / rare / dense latents, and disentanglement of templated sentence factors
   (gender, number, tense, sentiment) in the raw neurons vs the SAE's latents;
6. report: one self-contained HTML file (run summary, feature browser with a dashboard per
   latent, the disentanglement tables) — open demo_out/report.html in any browser.
Vision features end to end (photos, SAE, dashboards with heatmaps) are `make vision`.
"""

import argparse
import logging
from pathlib import Path

import torch

import saekit
from saekit.analysis.activity import dictionary_activity
from saekit.analysis.disentanglement import Uncertainty
from saekit.analysis.disentanglement.sentences import FAST, pooled_activations
from saekit.analysis.disentanglement.table import (
    flat_scores,
    infomec_variants,
    metric_table,
    save_table,
)
from saekit.analysis.factor_data.factor_sentences import factor_sentences
from saekit.artifacts import EVAL_REPORT, write_text_atomic
from saekit.evals.feature_stats import feature_stats
from saekit.latents.contexts import top_contexts
from saekit.reports import ReportConfig, build_report
from saekit.sae import Dictionary, DictionaryConfig
from saekit.train import StoreSource, TrainConfig, train


def summarise(store: saekit.ActivationStore) -> None:
    print(f"\n{store.folder}: {len(store)} rows, {len(store.manifest.shards)} shards")
    for hook in store.hooks:
        batch = next(store.hook_batches(hook, batch_size=4096, seed=0)).float()
        norms = batch.norm(dim=1)
        print(
            f"  {hook:28s} d={store.d(hook):5d}  |x| mean {norms.mean():8.2f}  "
            f"max {norms.max():8.2f}  nonfinite rows {store.manifest.nonfinite()[hook]}"
        )


def train_and_evaluate(model, store: saekit.ActivationStore, out: Path) -> Dictionary:
    hook = "blocks.6.hook_resid_post"
    shape = DictionaryConfig(d_sae=2304, k=32, hook_name=hook)
    config = TrainConfig(shape, tokens=300_000, batch_size=1024, dead_window=60_000, log_to="jsonl")
    (sae,) = train(StoreSource(store, [hook]), config, out, model_name="smollm2-135m")
    report = saekit.evaluate(sae, store, model, lm_windows=16)
    write_text_atomic(out / EVAL_REPORT, report.to_json())
    rec, lm = report.reconstruction, report.lm
    print(f"\nTopK SAE ({shape.d_sae} latents, k={shape.k}) at {hook}, saved in {out}")
    print(f"  evaluated on {report.rows_used}")
    print(
        f"  FVU {rec.fvu:.3f} (standardised {rec.fvu_standardized:.3f})  L0 {rec.l0:.1f}  "
        f"dead {rec.dead_fraction:.1%}"
    )
    print(
        f"  next-token CE clean {lm.ce_clean:.3f}, spliced {lm.ce_spliced:.3f}, "
        f"zero-ablated {lm.ce_zero_ablated:.3f}: loss recovered {lm.loss_recovered_zero:.1%}"
    )
    stats = feature_stats(sae, store)
    stats.save(out)
    for latent in stats.density.argsort(descending=True)[100:103].tolist():
        contexts = top_contexts(store, stats, latent, window=6)[:3]
        shown = " | ".join(repr(model.tokenizer.decode(c.token_ids)) for c in contexts)
        print(f"  latent {latent} (density {stats.density[latent]:.3f}): {shown}")
    return sae


def analyse(model, sae: Dictionary, store: saekit.ActivationStore, hook: str, out: Path) -> None:
    rows = next(store.hook_batches(hook, batch_size=8192, seed=1))
    activity = dictionary_activity(sae, rows)
    explained = ", ".join(f"{k} {v:.2f}" for k, v in activity.variance_explained.items())
    print(
        f"\nLatents: {int(activity.dead.sum())} dead, {int(activity.rare.sum())} rare, "
        f"{int(activity.dense.sum())} dense; variance explained by group: {explained}"
    )
    sentences = factor_sentences()
    pooled = pooled_activations(model, hook, sentences.texts, sae)
    rows = {"neurons": pooled.neurons, "dictionary": pooled.dictionary}
    uncertainty = Uncertainty(resamples=10)
    tables = {
        k: metric_table(z, sentences.factors, options=FAST, uncertainty=uncertainty)
        for k, z in rows.items()
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():  # for the report: scores and the NMI heatmap
        save_table(table, out / f"sentence_factors_{name}.json", rows[name], sentences.factors)
    scores = {k: flat_scores(table) for k, table in tables.items()}
    print(
        f"Sentence factors (gender x number x tense x sentiment) at {hook}, value [low, high]: "
        f"{uncertainty.confidence:.0%} interval over {uncertainty.resamples} half-samples"
    )
    print(f"  {'':14s}" + "".join(f"{name:>22s}" for name in rows))
    for metric in scores["neurons"]:
        estimates = [scores[name][metric] for name in rows]
        cells = "".join(f"{f'{e.value:.3f} [{e.low:.2f}, {e.high:.2f}]':>22s}" for e in estimates)
        print(f"  {metric:14s}{cells}")
    print("InfoM / InfoC with Miller–Madow MI (mm), uninformative latents left out (informative):")
    for name, z in rows.items():
        variants = infomec_variants(z, sentences.factors, FAST)
        print(f"  {name:12s} " + ", ".join(f"{k} {v:.3f}" for k, v in variants.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo_out"))
    parser.add_argument("--tokens", type=int, default=50_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    model = saekit.load_model("smollm2-135m")
    prompt = "When Mary and John went to the store, John gave a drink to"
    ids = model.tokenizer(prompt, return_tensors="pt").input_ids
    ids = torch.cat([torch.tensor([[model.tokenizer.bos_token_id]]), ids], dim=1)
    answer = model.tokenizer.decode(int(model.forward(ids)[0, -1].argmax()))
    print(f"SmolLM2 completes the IOI prompt with {answer!r}")

    text_store = saekit.harvest(
        model,
        hooks=["blocks.6.hook_resid_post", "blocks.6.attn.hook_z"],
        out=args.out / "acts_smollm2_l6",
        tokens=args.tokens,
    )
    summarise(text_store)

    sae = train_and_evaluate(model, text_store, args.out / "sae_topk_l6")
    analyse(model, sae, text_store, "blocks.6.hook_resid_post", args.out / "analyses")

    vision = saekit.load_model("mobilenet-v2")
    image_store = saekit.harvest(
        vision, "skimage", ["features.17", "features.18"], args.out / "acts_mobilenet"
    )
    summarise(image_store)
    print(f"\nStores are in {args.out}/; run the same command again and it resumes or skips.")
    report = build_report(
        ReportConfig(
            str(args.out / "sae_topk_l6"),
            str(text_store.folder),
            out=str(args.out / "report.html"),
            analyses=[str(args.out / "analyses")],
        )
    )
    print(
        f"\nReport: {report.path} ({report.bytes / 1e6:.1f} MB, {report.latents} latents, "
        f"{report.seconds:.0f} s) — open file://{report.path.resolve()} in any browser"
    )


if __name__ == "__main__":
    main()
