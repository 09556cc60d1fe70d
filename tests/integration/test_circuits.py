"""SmolLM2 does IOI, and the heads patching ranks highest matter far more than random ones."""

import random

import pytest

from saekit.analysis.circuits import capability, head_effects, make_task
from saekit.analysis.circuits.heads import metric_with_heads_ablated

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
