"""Circuit discovery on hand-checkable cases: task pairs, ROC-AUC and code scores computed by
hand, and a tiny model with one planted head that every method must rank first."""

import json

import pytest
import torch

from saekit import load_model
from saekit.analysis.circuits import (
    DiscreteSAEConfig,
    Task,
    discrete_sae_circuit,
    head_effects,
    make_task,
    roc_auc,
    score_against_truth,
)
from saekit.analysis.circuits.discrete_sae import edge_scores, node_scores
from saekit.analysis.circuits.heads import (
    _replace_head,
    head_points,
    metric_with_heads_ablated,
    task_metric,
)
from saekit.analysis.circuits.results import load_circuits
from saekit.analysis.circuits.tasks import encode_pairs, load_prompt_pairs, task_from_pairs
from saekit.cli import main

PLANTED = (1, 2)  # layer, head


@pytest.mark.parametrize("name", ["ioi", "greater-than", "docstring"])
def test_tasks_make_valid_pairs(tiny_lm, name):
    task = make_task(name, tiny_lm.tokenizer, n=30, seed=1)
    assert task.clean.shape == task.corrupt.shape and len(task) == 30
    real = torch.arange(task.clean.shape[1])[None] <= task.last[:, None]
    assert (task.clean[:, 0] == tiny_lm.tokenizer.bos_token_id).all()
    assert not torch.equal(task.clean[real], task.corrupt[real])
    assert task.metric(torch.randn(30, len(tiny_lm.tokenizer))).shape == (30,)


def test_unknown_task_and_unequal_pairs_are_refused(tiny_lm):
    with pytest.raises(ValueError, match="unknown task 'sudoku'"):
        make_task("sudoku", tiny_lm.tokenizer)
    with pytest.raises(ValueError, match="differ in length"):
        encode_pairs(tiny_lm.tokenizer, [("Then, Mary left", "Then, Mary and John left")])


def test_roc_auc_and_code_scores_by_hand():
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert roc_auc([1.0, 1.0], [True, False]) == 0.5
    positive, negative = torch.tensor([[1, 2], [3, 2]]), torch.tensor([[1, 5], [1, 2]])
    assert node_scores(positive, negative).tolist() == [1.0, 0.0]
    assert edge_scores(positive, negative).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    scores = score_against_truth(
        torch.tensor([[0.9, 0.1], [0.2, 0.0]]), torch.tensor([[0.5, 0.0], [-0.3, 0.01]]), [0.2]
    )
    assert (
        scores[0].true_heads == 2
        and scores[0].roc_auc == 1.0
        and scores[0].precision_at_size == 1.0
    )


@pytest.fixture(scope="module")
def planted(tiny_lm_folder):
    """The tiny model with every head's output projection zeroed but one, and a task whose
    clean and corrupted prompts differ in their first tokens."""
    model = load_model(str(tiny_lm_folder), "cpu")
    layer, head = PLANTED
    head_dim = model.module.config.hidden_size // model.module.config.num_attention_heads
    with torch.no_grad():
        for i, block in enumerate(model.module.model.layers):
            keep = torch.zeros_like(block.self_attn.o_proj.weight)
            if i == layer:
                keep[:, head * head_dim : (head + 1) * head_dim] = 1
            block.self_attn.o_proj.weight.mul_(keep * 4)
    generator = torch.Generator().manual_seed(0)
    clean = torch.randint(100, 5000, (16, 8), generator=generator)
    corrupt = clean.clone()
    corrupt[:, 1:4] = torch.randint(100, 5000, (16, 3), generator=generator)
    task = Task(
        "planted",
        clean,
        corrupt,
        torch.full((16,), 7),
        lambda logits: logits[:, 11] - logits[:, 22],
        ["?"] * 16,
    )
    return model, task


def test_patching_a_head_with_its_own_clean_value_changes_nothing(planted):
    model, task = planted
    points = head_points(model)
    own = model.capture(task.clean, points, stop_early=False)
    base = task_metric(model, task, task.clean)
    for point in points:
        for head in range(own[point.name].shape[2]):
            edit = _replace_head(head, own[point.name])
            patched = task_metric(model, task, task.clean, [(point, edit)])
            torch.testing.assert_close(patched, base)


@pytest.mark.parametrize("method", ["patching", "mean-ablation", "atp"])
def test_every_method_ranks_the_planted_head_first(planted, method):
    model, task = planted
    effects = head_effects(model, task, method, progress=False).effects
    assert effects.abs().flatten().argmax() == PLANTED[0] * effects.shape[1] + PLANTED[1]
    others = effects.abs().clone()
    others[PLANTED] = 0
    assert others.max() < 1e-4


def test_discrete_sae_codes_rank_the_planted_head_first(planted):
    model, task = planted
    config = DiscreteSAEConfig(prompts=8, d_sae=32, epochs=100, lr=3e-3)
    circuit = discrete_sae_circuit(model, task, config)
    assert circuit.node_scores[PLANTED] >= 1
    others = circuit.node_scores.clone()
    others[PLANTED] = 0
    assert others.max() == 0
    assert circuit.edge_node_scores.flatten().argmax() == PLANTED[0] * 4 + PLANTED[1]
    # codes on every prompt, the SAE trained on prompts drawn from the pooled set
    assert circuit.codes_positive.shape == circuit.codes_negative.shape == (len(task), 8)
    assert len(circuit.training_rows) == 8 and circuit.training_rows.max() < 2 * len(task)


def test_the_paper_settings_are_the_default_and_saekits_sae_is_an_option(planted):
    from saekit.analysis.circuits.discrete_sae import paper_l1_coefficient

    defaults = DiscreteSAEConfig()
    assert (defaults.prompts, defaults.d_sae, defaults.lr, defaults.epochs) == (10, 200, 1e-3, 500)
    assert (defaults.l1_coefficient, defaults.sae, defaults.position) == (0.02, "paper", "mean")
    assert paper_l1_coefficient("docstring") == 0.05 and paper_l1_coefficient("ioi") == 0.02
    model, task = planted
    config = DiscreteSAEConfig(prompts=8, d_sae=32, epochs=50, sae="saekit")
    circuit = discrete_sae_circuit(model, task, config)
    assert circuit.node_scores.shape == (2, 4)
    with pytest.raises(ValueError, match="fewer than the 40 to train on"):
        discrete_sae_circuit(model, task, DiscreteSAEConfig(prompts=40))


def test_circuits_command_reports_a_task_the_model_cannot_do(tiny_lm_folder, tmp_path, capsys):
    import json

    from saekit.cli import main

    args = ["circuits", "--model", str(tiny_lm_folder), "--task", "ioi", "--prompts", "8"]
    assert main([*args, "--out", str(tmp_path), "--device", "cpu"]) == 0
    results = json.loads((tmp_path / "circuits.json").read_text())
    assert results["can_do"] is False and "methods" not in results
    assert "not scored" in capsys.readouterr().out


def test_ablating_a_set_of_heads_matches_patching_one(planted):
    from saekit.analysis.circuits.heads import metric_with_heads_ablated

    model, task = planted
    base = float(task_metric(model, task, task.clean).mean())
    assert metric_with_heads_ablated(model, task, [(0, 0), (0, 3)]) == pytest.approx(base)
    mean_ablated = head_effects(model, task, "mean-ablation", progress=False)
    single = metric_with_heads_ablated(model, task, [PLANTED])
    expected = base + float(mean_ablated.effects[PLANTED]) * (
        mean_ablated.corrupt_metric - mean_ablated.clean_metric
    )
    assert single == pytest.approx(expected, rel=1e-4)


def test_feature_circuit_effects_add_up_and_faithfulness_spans_none_to_all(planted):
    from saekit.analysis.circuits.features import ERROR, feature_circuit
    from saekit.analysis.circuits.heads import head_points
    from saekit.hooks import keeping_grad
    from saekit.sae import DictionaryConfig, build

    model, task = planted
    hook = "blocks.0.hook_resid_post"
    sae = build(DictionaryConfig("standard", 32, 64, hook_name=hook))
    circuit = feature_circuit(model, task, {hook: sae}, sizes=(0, 5, 65))
    # latents and error decompose the activation linearly, so their AtP effects add up to the
    # activation's own AtP effect
    (point,) = model.resolve_hooks(hook)
    with torch.no_grad():
        corrupt = model.capture(task.corrupt, [point], stop_early=False)[hook]
    with torch.enable_grad(), keeping_grad(model.module, [point]) as record:
        task_metric(model, task, task.clean).mean().backward()
    whole = float(((corrupt - record.activations[hook]) * record.gradients()[hook]).sum())
    parts = float(circuit.latent_effects[hook].sum()) + circuit.error_effects[hook]
    assert parts == pytest.approx(whole, rel=1e-3, abs=1e-5)
    assert len(circuit.nodes) == 65 and {n.latent for n in circuit.nodes} >= {ERROR}
    fractions = {p.nodes: p.fraction for p in circuit.faithfulness}
    assert fractions[0] == pytest.approx(0.0, abs=1e-6)
    assert fractions[65] == pytest.approx(1.0, abs=1e-6)
    assert head_points(model)  # the planted model still resolves its heads


def test_feature_circuit_refuses_a_dictionary_from_another_hook_or_width(planted):
    from saekit.analysis.circuits.features import feature_circuit
    from saekit.sae import DictionaryConfig, build

    model, task = planted
    other = build(DictionaryConfig("topk", 32, 64, k=4, hook_name="blocks.1.hook_resid_post"))
    with pytest.raises(ValueError, match="trained on blocks.1.hook_resid_post"):
        feature_circuit(model, task, {"blocks.0.hook_resid_post": other})
    narrow = build(DictionaryConfig("topk", 16, 64, k=4))
    with pytest.raises(ValueError, match="d_in=16"):
        feature_circuit(model, task, {"blocks.0.hook_resid_post": narrow})
    with pytest.raises(ValueError, match="at least one dictionary"):
        feature_circuit(model, task, {})


def test_mean_ablation_ignores_padding(planted):
    """Twelve pad columns after every prompt's last real position change nothing."""
    model, task = planted
    pad = torch.full((len(task), 12), 3)
    padded = Task(
        "padded",
        torch.cat([task.clean, pad], 1),
        torch.cat([task.corrupt, pad], 1),
        task.last,
        task.metric,
        task.prompts,
    )
    heads = [PLANTED, (0, 1)]
    torch.testing.assert_close(
        metric_with_heads_ablated(model, padded, heads),
        metric_with_heads_ablated(model, task, heads),
    )
    plain = head_effects(model, task, "mean-ablation", layers=[1], progress=False).effects
    with_pad = head_effects(model, padded, "mean-ablation", layers=[1], progress=False).effects
    torch.testing.assert_close(with_pad[1], plain[1])


def test_a_task_from_the_users_own_prompts(tiny_lm, tmp_path):
    lines = [
        {"clean": "When Mary and John went out, John gave it to", "corrupted":
         "When Anna and Paul went out, Paul gave it to", "answer": " Mary", "wrong": " John"},
        {"clean": "The river flows to the", "corrupted": "The river bends to the",
         "answer": " sea", "wrong": " hill"},
    ]  # fmt: skip
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    task = task_from_pairs(tiny_lm.tokenizer, load_prompt_pairs(path), "mine")
    assert task.name == "mine" and len(task) == 2 and task.clean.shape == task.corrupt.shape
    tok = tiny_lm.tokenizer
    logits = torch.zeros(2, len(tok))
    logits[0, tok(" Mary").input_ids[-1]], logits[1, tok(" hill").input_ids[-1]] = 2.0, 3.0
    assert task.metric(logits).tolist() == [2.0, -3.0]
    assert task.last.tolist() == [len(tok(p["clean"]).input_ids) for p in lines]  # BOS first


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "holds no prompt pairs"),
        ('{"clean": "a b", "corrupted": "a c", "answer": " x"}\n', "line 1: expected a JSON"),
        (
            '{"clean": "a b", "corrupted": "a b c d", "answer": " x", "wrong": " y"}\n',
            "differ in length",
        ),
        (
            '{"clean": "a b", "corrupted": "a c", "answer": " New York", "wrong": " y"}\n',
            "prompt pair 1: .* tokens for this tokenizer, not one; answers must be one token",
        ),
    ],
)
def test_bad_prompt_files_are_named(tiny_lm, tmp_path, content, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        task_from_pairs(tiny_lm.tokenizer, load_prompt_pairs(path))


def test_patching_only_the_chosen_heads(planted):
    model, task = planted
    full = head_effects(model, task, "patching", progress=False).effects
    chosen = head_effects(model, task, "patching", heads=[PLANTED, (0, 0)], progress=False)
    assert torch.isnan(chosen.effects).sum() == full.numel() - 2
    torch.testing.assert_close(chosen.effects[PLANTED], full[PLANTED])
    torch.testing.assert_close(chosen.effects[0, 0], full[0, 0])
    with pytest.raises(ValueError, match=r"heads \[\(9, 0\)\] do not exist"):
        head_effects(model, task, "patching", heads=[(9, 0)], progress=False)


def test_the_circuits_command_takes_a_prompt_file(tiny_lm_folder, tmp_path):
    line = {"clean": "The river flows to the", "corrupted": "The river bends to the"}
    (tmp_path / "rivers.jsonl").write_text(json.dumps(line | {"answer": " sea", "wrong": " hill"}))
    args = ["circuits", "--model", str(tiny_lm_folder), "--pairs", str(tmp_path / "rivers.jsonl")]
    assert main(args + ["--methods", "atp", "--out", str(tmp_path / "out"), "--device", "cpu"]) == 0
    results = load_circuits(tmp_path / "out")
    assert results["task"] == "rivers" and "capability" in results


def test_the_paper_sae_keeps_unit_rows_starts_its_bias_at_zero_and_is_sparse():
    from saekit.analysis.circuits.paper_sae import PaperSAE, paper_loss, train_paper_sae

    sae = PaperSAE(12, 7, seed=0)
    assert torch.equal(sae.tied_bias, torch.zeros(12))
    x = torch.randn(40, 12, generator=torch.Generator().manual_seed(1)) * 3
    latents, reconstruction = sae(x)
    by_hand = ((reconstruction - x) ** 2).mean() + 0.1 * latents.abs().sum(1).mean()
    assert float(paper_loss(sae, x, 0.1).detach()) == pytest.approx(float(by_hand.detach()))
    trained = train_paper_sae(x, 7, l1_coefficient=0.5, lr=1e-2, epochs=200, seed=0)
    for layer in (trained.encoder, trained.decoder):
        layer(torch.zeros(1, layer.weight.shape[1]))  # renormalised before every forward
        torch.testing.assert_close(layer.weight.norm(dim=-1), torch.ones(layer.weight.shape[0]))
    # the decoder's rows are per input dimension: [d_in, d_sae]
    assert trained.decoder.weight.shape == (12, 7)
    strong = (trained.encode(x) > 0).float().sum(1).mean()
    weak = train_paper_sae(x, 7, l1_coefficient=0.0, lr=1e-2, epochs=200, seed=0)
    assert strong < (weak.encode(x) > 0).float().sum(1).mean()


def test_the_papers_gradient_keeps_rows_on_the_sphere():
    from saekit.analysis.circuits.paper_sae import UnitRowLinear

    layer = UnitRowLinear(5, 3, bias=False, generator=torch.Generator().manual_seed(0))
    (layer(torch.randn(4, 5)) ** 2).sum().backward()
    along = (layer.weight.grad * layer.weight).sum(-1)
    torch.testing.assert_close(along, torch.zeros(3), atol=1e-5, rtol=0)


def test_edges_become_head_scores_by_counting_the_top_pairs():
    from saekit.analysis.circuits.discrete_sae import top_pair_counts

    edges = torch.tensor([[0.0, 5.0, 1.0], [0.0, 0.0, 3.0], [2.0, 0.0, 0.0]])
    # pairs by score: (0,1)=5, (1,2)=3, (2,0)=2, (0,2)=1, then the zeros; n²/2 = 4 entries
    assert top_pair_counts(edges).tolist() == [1.0, 2.0, 1.0]
    assert top_pair_counts(torch.tensor([[0.0, 1.0], [0.0, 0.0]])).tolist() == [1.0, 1.0]


def test_the_response_truth_takes_the_most_changed_heads_at_the_patching_sizes():
    from saekit.analysis.circuits.scoring import patching_truth, response_truth

    effects = torch.tensor([[0.5, 0.0], [0.03, 0.01]])
    responses = torch.tensor([[0.1, 0.9], [0.2, 0.8]])
    patching = patching_truth(effects, [0.02, 0.1])
    assert [t.members.tolist() for t in patching] == [
        [True, False, True, False],
        [True, False, False, False],
    ]
    response = response_truth(effects, responses, [0.02, 0.1])
    assert [t.members.tolist() for t in response] == [
        [False, True, False, True],
        [False, True, False, False],
    ]


def test_only_the_planted_head_responds_to_the_corruption(planted):
    from saekit.analysis.circuits.writes import head_responses

    model, task = planted
    responses = head_responses(model, task)
    assert responses.shape == (2, 4)
    assert responses[PLANTED] > 0.1
    others = responses.clone()
    others[PLANTED] = 0
    assert others.abs().max() == 0  # their output projections are zero


def test_integrated_attribution_converges_to_patching_where_atp_does_not(planted):
    model, task = planted
    patched = float(head_effects(model, task, "patching", progress=False).effects[PLANTED])
    ig = head_effects(model, task, "atp-ig", progress=False, steps=16).effects
    assert float(ig[PLANTED]) == pytest.approx(patched, rel=0.02)
    others = ig.abs().clone()
    others[PLANTED] = 0
    assert others.max() < 1e-4
    atp = float(head_effects(model, task, "atp", progress=False).effects[PLANTED])
    assert abs(atp - patched) > 2 * abs(float(ig[PLANTED]) - patched)
