"""Vision features end to end (`make vision`): harvest MobileNetV2's last feature map (every
spatial position a row) on random crops of ~80 real photos from packages, train a TopK SAE,
evaluate it (FVU, and how often the classifier's top-1 class survives the SAE spliced in, on
held-out crops), and write the HTML report with a dashboard per feature: its top images with the
activation heatmap over the 7 x 7 grid overlaid.

    python recipes/vision.py --out vision_out [--crops 800]
"""

import argparse
import logging
from pathlib import Path

import saekit
from saekit.artifacts import EVAL_REPORT, write_text_atomic
from saekit.data.images import load_images
from saekit.data.photos import random_crops
from saekit.evals.classifier import classifier_agreement
from saekit.evals.feature_stats import feature_stats
from saekit.reports import ReportConfig, build_report
from saekit.sae import DictionaryConfig
from saekit.train import StoreSource, TrainConfig, train

HOOK = "features.18"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("vision_out"))
    parser.add_argument("--crops", type=int, default=800, help="random crops harvested")
    parser.add_argument("--held-out", type=int, default=200, help="crops for the agreement test")
    parser.add_argument("--width", type=int, default=2560)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument(
        "--lr", type=float, default=None, help="peak learning rate (default: the trainer's)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    model = saekit.load_model("mobilenet-v2", "cpu")
    store = saekit.harvest(model, f"photos:{args.crops}", HOOK, args.out / "acts_mobilenet")
    print(f"{store.folder}: {len(store)} rows ({args.crops} crops x 49 positions)")
    shape = DictionaryConfig(d_sae=args.width, k=args.k, hook_name=HOOK)
    config = TrainConfig(shape, tokens=400_000, batch_size=1024, lr=args.lr, log_to="jsonl")
    folder = args.out / "sae_topk"
    (sae,) = train(StoreSource(store, [HOOK]), config, folder, model_name="mobilenet-v2")
    report = saekit.evaluate(sae, store)
    write_text_atomic(folder / EVAL_REPORT, report.to_json())
    held_out = random_crops(load_images("photos"), args.held_out, seed=1)
    agreement = classifier_agreement(model, sae, held_out)
    rec = report.reconstruction
    print(
        f"TopK SAE ({args.width} latents, k={args.k}) at {HOOK}, on {report.rows_used}: "
        f"FVU {rec.fvu:.3f} (standardised {rec.fvu_standardized:.3f}), L0 {rec.l0:.1f}, "
        f"dead {rec.dead_fraction:.1%}; on {agreement.images} held-out crops "
        f"top-1 class kept {agreement.top1_agreement:.1%}, "
        f"top-5 overlap {agreement.top5_overlap:.1%}"
    )
    feature_stats(sae, store).save(folder)
    result = build_report(
        ReportConfig(str(folder), str(store.folder), out=str(args.out / "report.html"))
    )
    print(f"report: {result.path} ({result.bytes / 1e6:.1f} MB, {result.seconds:.0f} s)")


if __name__ == "__main__":
    main()
