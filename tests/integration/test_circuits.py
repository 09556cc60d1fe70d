"""SmolLM2 does IOI, the heads patching ranks highest matter far more than random ones, and a
feature circuit lists its top latents with the contexts they fire on."""

import random
import shutil

import pytest

from saekit.analysis.circuits import capability, head_effects, make_task
from saekit.analysis.circuits.features import ERROR
from saekit.analysis.circuits.heads import metric_with_heads_ablated
from saekit.analysis.circuits.run import CircuitsConfig, run_circuits
from saekit.evals.feature_stats import feature_stats
from tests.integration.conftest import HOOK

pytestmark = pytest.mark.integration


def test_smollm2_does_ioi_and_its_top_patched_heads_carry_it(smollm2):
    task = make_task("ioi", smollm2.tokenizer, n=12, seed=3)
    able = capability(smollm2, task)
    assert able.can_do and able.clean_accuracy >= 0.8 and able.clean_metric > 2
    effects = head_effects(smollm2, task, "patching", layers=range(16, 30), progress=False)
    n_heads = effects.effects.shape[1]
    ranked = effects.effects.abs().nan_to_num().flatten().argsort(descending=True)
    top = [(int(i) // n_heads, int(i) % n_heads) for i in ranked[:5]]
    drop_top = able.clean_metric - metric_with_heads_ablated(smollm2, task, top)
    rng = random.Random(0)
    every_head = [(layer, head) for layer in range(30) for head in range(n_heads)]
    drops = [
        able.clean_metric - metric_with_heads_ablated(smollm2, task, rng.sample(every_head, 5))
        for _ in range(3)
    ]
    assert drop_top > 3 * max(sum(drops) / len(drops), 0.1), (drop_top, drops, top)


def test_feature_circuit_lists_top_latents_with_their_top_contexts(
    smollm2, layer6_store, layer6_sae, tmp_path
):
    folder, sae = layer6_sae
    copy = shutil.copytree(folder, tmp_path / "sae")
    stats = feature_stats(sae, layer6_store)
    stats.save(copy)
    config = CircuitsConfig(
        "ioi",
        ["atp"],
        prompts=8,
        dictionaries=[str(copy)],
        acts=str(layer6_store.folder),
        feature_sizes=[10],
    )
    results = run_circuits(smollm2, config, tmp_path / "out")
    top = results["feature_circuit"]["top"][HOOK]
    latents = [node for node in top if node["latent"] != ERROR]
    assert latents and all("contexts" not in n for n in top if n["latent"] == ERROR)
    for node in latents:
        expected = [v for v in stats.top_values[node["latent"]].tolist() if v > 0][:3]
        values = [c["value"] for c in node["contexts"]]
        assert values == pytest.approx(expected)
        assert all(c["text"].strip() for c in node["contexts"])
