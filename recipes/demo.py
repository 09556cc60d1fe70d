"""End-to-end demo on the offline defaults (`make demo`).

Today: harvest SmolLM2-135M's residual stream and attention head outputs from the offline
Wikipedia corpus into a resumable store, read it back with the shuffled batch iterator, and
harvest MobileNetV2 on sample photos. Training, evaluation, analysis and the report join this
recipe as those stages land.
"""

import argparse
import logging
from pathlib import Path

import torch

import saekit


def summarise(store: saekit.ActivationStore) -> None:
    print(f"\n{store.folder}: {len(store)} rows, {len(store.manifest.shards)} shards")
    for hook in store.hooks:
        batch = next(store.batches(hook, batch_size=4096, seed=0)).float()
        norms = batch.norm(dim=1)
        print(
            f"  {hook:28s} d={store.d(hook):5d}  |x| mean {norms.mean():8.2f}  "
            f"max {norms.max():8.2f}  nonfinite rows {store.manifest.nonfinite()[hook]}"
        )


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

    vision = saekit.load_model("mobilenet-v2")
    image_store = saekit.harvest(
        vision, "skimage", ["features.17", "features.18"], args.out / "acts_mobilenet"
    )
    summarise(image_store)
    print(f"\nStores are in {args.out}/; run the same command again and it resumes or skips.")


if __name__ == "__main__":
    main()
