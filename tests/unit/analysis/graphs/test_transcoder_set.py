"""A transcoder set trained in one pass on the tiny Llama: its manifest and hooks, its resume,
its evaluation (with the errors kept the model's logits come back), and `saekit graph` writing
a graph, its pruned form and Neuronpedia's JSON."""

import json

import pytest
import torch

from saekit.analysis.graphs.evaluate import evaluate_set
from saekit.analysis.graphs.export import cantor
from saekit.analysis.graphs.transcoders import (
    MANIFEST,
    TranscoderSetConfig,
    held_back_windows,
    input_hook,
    layer_folder,
    output_hook,
    train_transcoder_set,
)
from saekit.cli import main

SMALL = dict(
    d_sae=64,
    k=4,
    tokens=4096,
    batch_size=256,
    context_length=32,
    corpus_tokens=12_288,
    buffer_rows=1024,
)


@pytest.fixture(scope="module")
def trained(tiny_lm, tmp_path_factory):
    out = tmp_path_factory.mktemp("set") / "tc"
    return out, train_transcoder_set(tiny_lm, out, TranscoderSetConfig(**SMALL), progress=False)


def test_one_transcoder_per_layer_reads_the_mlp_input_and_predicts_its_output(tiny_lm, trained):
    out, found = trained
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["model"] == tiny_lm.spec and manifest["n_layers"] == 2
    assert sorted(found.transcoders) == [0, 1]
    for layer, tc in found.transcoders.items():
        assert tc.cfg.hook_name == input_hook(layer) and tc.cfg.hook_name_out == output_hook(layer)
        assert tc.cfg.k == 4 and tc.cfg.d_sae == 64
    # the input hook is the MLP's input after its norm
    tokens = torch.tensor([[1, 300, 400, 500]])
    seen = tiny_lm.capture(tokens, tiny_lm.resolve_hooks([input_hook(1), output_hook(1)]))
    layer = tiny_lm.module.model.layers[1]
    torch.testing.assert_close(layer.mlp(seen[input_hook(1)]), seen[output_hook(1)])


def test_a_finished_set_resumes_to_itself_and_another_model_is_refused(tiny_lm, trained):
    out, found = trained
    again = train_transcoder_set(tiny_lm, out, TranscoderSetConfig(**SMALL), progress=False)
    for layer in (0, 1):
        assert torch.equal(again.transcoders[layer].W_enc, found.transcoders[layer].W_enc)
    manifest = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps(manifest | {"model": "someone-else"}))
    try:
        with pytest.raises(ValueError, match="choose a new --out"):
            train_transcoder_set(tiny_lm, out, TranscoderSetConfig(**SMALL), progress=False)
    finally:
        (out / MANIFEST).write_text(json.dumps(manifest))


def test_the_set_evaluation_gives_back_the_model_with_its_errors(tiny_lm, trained):
    _, found = trained
    windows = held_back_windows(tiny_lm, TranscoderSetConfig(**SMALL), 8)
    result = evaluate_set(tiny_lm, found, windows.inputs, ~windows.keep)
    assert result.max_logit_gap_with_errors < 1e-5
    assert 200 < result.tokens <= 8 * 31  # positions next to EOS are not scored
    for quality in result.layers:
        assert 0 < quality.l0 <= 4
        assert 0 < quality.fvu < 1.5
    assert result.ce_clean < result.ce_mean_ablated + 1  # random model: near-uniform losses
    assert result.loss_recovered == pytest.approx(
        (result.ce_mean_ablated - result.ce_replaced) / (result.ce_mean_ablated - result.ce_clean)
    )


def test_evaluating_on_windows_training_read_is_refused(tiny_lm):
    config = TranscoderSetConfig(**SMALL | {"tokens": 12_000})
    with pytest.raises(ValueError, match="held-back windows are not left"):
        held_back_windows(tiny_lm, config, 8)


def test_saekit_graph_writes_the_graph_the_pruned_graph_and_neuronpedia_json(
    tiny_lm, tiny_lm_folder, trained, tmp_path, capsys
):
    out, _ = trained
    argv = ["graph", "--transcoders", str(out), "--model", str(tiny_lm_folder)]
    argv += ["--prompt", "The capital of France is", "--out", str(tmp_path / "g")]
    argv += ["--interventions", "3", "--context-windows", "4"]
    argv += ["--node-threshold", "1", "--edge-threshold", "1"]  # keep every node of a random model
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "replacement" in printed and "interventions" in printed
    folder = tmp_path / "g"
    summary = json.loads((folder / "graph_summary.json").read_text())
    assert summary["nodes"]["tokens"] == 6 and summary["nodes"]["errors"] == 12
    assert 0 <= summary["scores"]["completeness"] <= 1
    assert len(summary["validation"]["interventions"]) == 6
    cards = json.loads((folder / "cards.json").read_text())
    assert cards and all(len(c["promoted"]) == 8 for c in cards.values())
    document = json.loads(next((folder / "neuronpedia").glob("the-capital*.json")).read_text())
    _check_neuronpedia_shape(document, summary)
    index = json.loads((folder / "neuronpedia" / "graph-metadata.json").read_text())
    assert [g["slug"] for g in index["graphs"]] == [document["metadata"]["slug"]]


def _check_neuronpedia_shape(document: dict, summary: dict) -> None:
    assert set(document) == {"metadata", "qParams", "nodes", "links"}
    meta = document["metadata"]
    assert {"slug", "scan", "prompt_tokens", "prompt", "schema_version"} <= set(meta)
    assert meta["schema_version"] == 1 and meta["prompt_tokens"] == summary["tokens"]
    assert set(document["qParams"]) == {
        "pinnedIds",
        "supernodes",
        "linkType",
        "clickedId",
        "sg_pos",
    }
    required = {"node_id", "feature", "layer", "ctx_idx", "feature_type", "jsNodeId", "clerp"}
    ids = set()
    for node in document["nodes"]:
        assert required <= set(node)
        ids.add(node["node_id"])
        if node["feature_type"] == "cross layer transcoder":
            layer, index, position = map(int, node["node_id"].split("_"))
            assert node["feature"] == cantor(layer, index) and node["ctx_idx"] == position
            assert node["layer"] == str(layer) and node["jsNodeId"] == f"{layer}_{index}-0"
    kinds = [n["feature_type"] for n in document["nodes"]]
    assert kinds.count("embedding") == 6
    assert kinds.count("logit") == len(summary["logits"])
    assert sum(n.get("is_target_logit", False) for n in document["nodes"]) == 1
    assert len(ids) == len(document["nodes"])
    for link in document["links"]:
        assert link["source"] in ids and link["target"] in ids
        assert isinstance(link["weight"], float)


def test_cantor_pairs_layer_and_index_as_neuronpedia_decodes():
    assert cantor(12, 345) == (357 * 358) // 2 + 345 == 64248


def test_a_capped_graph_runs_end_to_end(tiny_lm, trained, tmp_path):
    from saekit.analysis.graphs.run import GraphConfig, run_graph

    _, found = trained
    config = GraphConfig(prompt="The river", max_feature_nodes=5, interventions=2)
    config.context_windows = 0
    summary = run_graph(tiny_lm, found, config, tmp_path / "g", progress=False)
    assert summary["nodes"]["features"] == 5
    assert len(summary["validation"]["interventions"]) == 4
    with pytest.raises(ValueError, match="max_feature_nodes"):
        GraphConfig(prompt="x", max_feature_nodes=0)


def test_a_logit_target_must_be_one_token(tiny_lm):
    from saekit.analysis.graphs.run import target_ids

    (paris,) = target_ids(tiny_lm, [" Paris"])
    assert tiny_lm.tokenizer.decode([paris]) == " Paris"
    with pytest.raises(ValueError, match="must be one token"):
        target_ids(tiny_lm, [" Paris is lovely"])


def test_a_jumprelu_set_trains_with_its_own_sparsity_setting(tiny_lm, tmp_path):
    """The set's k (a topk setting) is not handed to JumpReLU, which reads the L0 penalty."""
    config = TranscoderSetConfig(**SMALL | {"architecture": "jumprelu", "l0_coefficient": 0.5})
    found = train_transcoder_set(tiny_lm, tmp_path / "jr", config, progress=False)
    for tc in found.transcoders.values():
        assert tc.cfg.architecture == "jumprelu" and tc.cfg.l0_coefficient == 0.5
    windows = held_back_windows(tiny_lm, config, 8)
    result = evaluate_set(tiny_lm, found, windows.inputs, ~windows.keep)
    assert result.max_logit_gap_with_errors < 1e-5
    assert all(quality.fvu < 1.5 for quality in result.layers)


def test_a_set_of_some_layers_trains_and_skips_the_whole_set_evaluation(
    tiny_lm_folder, tmp_path, capsys
):
    flags = {"--" + k.replace("_", "-"): str(v) for k, v in SMALL.items()}
    argv = ["transcoders", "--model", str(tiny_lm_folder), "--out", str(tmp_path / "one")]
    argv += [*(item for pair in flags.items() for item in pair), "--layers", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "set evaluation skipped" in printed and "layers [1] of 2" in printed
    assert (tmp_path / "one" / layer_folder(1) / "cfg.json").is_file()
