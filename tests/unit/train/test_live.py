import torch

from saekit.train import TrainConfig, train
from saekit.train.live import LiveSource


def test_training_live_from_a_model_without_a_store(tiny_lm, tmp_path):
    source = LiveSource(
        tiny_lm,
        ["blocks.1.hook_resid_post"],
        corpus_tokens=4096,
        context_length=32,
        buffer_rows=1024,
    )
    assert source.dim("blocks.1.hook_resid_post") == 32
    first = next(source.batches(256, seed=0))["blocks.1.hook_resid_post"]
    again = next(source.batches(256, seed=0, start=0))["blocks.1.hook_resid_post"]
    assert torch.equal(first, again) and first.shape == (256, 32)
    skipped = next(source.batches(256, seed=0, start=3))["blocks.1.hook_resid_post"]
    third = list(zip(range(4), source.batches(256, seed=0), strict=False))[3][1]
    assert torch.equal(skipped, third["blocks.1.hook_resid_post"])
    config = TrainConfig(width=64, k=4, tokens=20 * 256, batch_size=256, lr=1e-3)
    (sae,) = train(source, config, tmp_path / "live", progress=False)
    assert (
        sae.cfg.hook_name == "blocks.1.hook_resid_post"
        and (tmp_path / "live" / "cfg.json").exists()
    )
