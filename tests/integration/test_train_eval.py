"""Harvest -> train -> evaluate on the real default model."""

import json

import pytest
import torch

import saekit
from saekit.cli import main
from saekit.evals.feature_stats import FeatureStats
from saekit.latents.contexts import top_contexts
from saekit.splice import spliced
from tests.integration.conftest import HOOK

pytestmark = pytest.mark.integration


def test_trained_sae_reconstructs_and_recovers_most_of_the_loss(smollm2, layer6_store, layer6_sae):
    _, sae = layer6_sae
    report = saekit.evaluate(sae, layer6_store, smollm2, lm_windows=8)
    rec, lm = report.reconstruction, report.lm
    assert (
        rec.fvu < 0.35 and 31 < rec.l0 <= 32 and rec.dead_fraction < 0.5
    )  # k, less where a top-k pre-activation is <= 0
    assert lm.ce_clean < lm.ce_spliced < lm.ce_mean_ablated < lm.ce_zero_ablated
    assert lm.loss_recovered_zero > 0.7 and lm.kl_spliced > 0


def test_splicing_with_the_error_kept_gives_the_clean_loss(smollm2, layer6_sae):
    _, sae = layer6_sae
    ids = smollm2.tokenizer("The cat sat on the mat because", return_tensors="pt").input_ids
    clean = smollm2.forward(ids)
    with torch.no_grad(), spliced(smollm2, sae, keep_error=True):
        same = smollm2.forward(ids)
    torch.testing.assert_close(same, clean, rtol=1e-4, atol=1e-3)


def test_saved_dictionary_carries_provenance(layer6_store, layer6_sae):
    folder, _ = layer6_sae
    cfg = json.loads((folder / "cfg.json").read_text())
    assert cfg["architecture"] == "topk" and cfg["k"] == 32
    assert cfg["metadata"] == {
        "model_name": "smollm2-135m",
        "hook_name": HOOK,
        "hook_name_out": None,
    }
    saekit_meta = cfg["saekit"]
    assert saekit_meta["provenance"]["saekit_version"] == saekit.__version__
    assert saekit_meta["training"]["config"]["seed"] == 0
    assert len(saekit_meta["training"]["data_fingerprint"]) == 64


def test_eval_cli_writes_report_and_feature_stats(layer6_store, layer6_sae, smollm2):
    folder, _ = layer6_sae
    assert (
        main(
            [
                "eval",
                "--dictionary",
                str(folder),
                "--acts",
                str(layer6_store.folder),
                "--max-rows",
                "5000",
                "--feature-stats",
            ]
        )
        == 0
    )
    report = json.loads((folder / "eval.json").read_text())
    held_out = json.loads((folder / "cfg.json").read_text())["saekit"]["config"]["held_out"]
    assert report["rows_used"].startswith(f"held-out rows {held_out['first_row']}..")
    assert report["lm"] is None
    assert report["reconstruction"]["rows"] == min(5000, len(layer6_store) - held_out["first_row"])
    stats = FeatureStats.load(folder)
    assert stats.density.shape == (1152,) and float(stats.density.max()) <= 1
    busiest = int(stats.density.argmax())
    contexts = top_contexts(layer6_store, stats, busiest)
    assert len(contexts) == 20 and contexts[0][0] >= contexts[-1][0] > 0
    assert all(len(tokens) >= 1 for _, tokens in contexts)
