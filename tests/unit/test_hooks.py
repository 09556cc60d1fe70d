import pytest
import torch

from saekit.hooks import attached, glob_names, hooks_left, natural_key


def test_glob_sorts_naturally_and_matches_one_part_per_star():
    names = ["model.layers.10.mlp", "model.layers.2.mlp", "model.layers.2.mlp.up", "model.norm"]
    assert glob_names("model.layers.*.mlp", names) == ["model.layers.2.mlp", "model.layers.10.mlp"]
    assert sorted(["a.10", "a.9"], key=natural_key) == ["a.9", "a.10"]


def test_resolve_lens_names_globs_and_modules(tiny_lm):
    points = tiny_lm.resolve_hooks(["blocks.*.hook_resid_post", "model.layers.1.mlp"])
    assert [p.name for p in points] == [
        "blocks.0.hook_resid_post",
        "blocks.1.hook_resid_post",
        "model.layers.1.mlp",
    ]
    assert points[1].module == "model.layers.1"


def test_unknown_hook_lists_closest_names(tiny_lm):
    with pytest.raises(KeyError, match="blocks.1.hook_resid_post"):
        tiny_lm.resolve_hooks("blocks.1.hook_resid_pots")


def test_capture_matches_hidden_states_and_removes_hooks(tiny_lm):
    ids = torch.randint(0, 1000, (2, 7))
    # transformers attaches its own recorders on the first output_hidden_states call
    hidden = tiny_lm.module(input_ids=ids, output_hidden_states=True).hidden_states
    before = hooks_left(tiny_lm.module)
    points = tiny_lm.resolve_hooks(
        ["hook_embed", "blocks.0.hook_resid_post", "blocks.1.hook_resid_pre"]
    )
    acts = tiny_lm.capture(ids, points, stop_early=False)
    torch.testing.assert_close(acts["hook_embed"], hidden[0], rtol=0, atol=0)
    torch.testing.assert_close(acts["blocks.0.hook_resid_post"], hidden[1], rtol=0, atol=0)
    torch.testing.assert_close(acts["blocks.1.hook_resid_pre"], hidden[1], rtol=0, atol=0)
    assert hooks_left(tiny_lm.module) == before


def test_hook_z_is_o_proj_input_split_by_head(tiny_lm):
    ids = torch.randint(0, 1000, (2, 5))
    points = tiny_lm.resolve_hooks(["blocks.1.attn.hook_z", "blocks.1.attn.hook_pattern"])
    acts = tiny_lm.capture(ids, points)
    assert acts["blocks.1.attn.hook_z"].shape == (2, 5, 4, 8)
    pattern = acts["blocks.1.attn.hook_pattern"]
    assert pattern.shape == (2, 5, 4, 5)  # [batch, query, head, key]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(2, 5, 4))
    assert torch.all(pattern[:, 0, :, 1:] == 0)  # causal: query 0 sees only key 0
    assert tiny_lm.module.config._attn_implementation != "eager"


def test_stop_early_skips_later_layers(tiny_lm):
    calls = []
    last = tiny_lm.module.model.layers[1]
    handle = last.register_forward_hook(lambda *a: calls.append(1))
    try:
        tiny_lm.capture(
            torch.ones(1, 4, dtype=torch.long), tiny_lm.resolve_hooks("blocks.0.hook_resid_post")
        )
        assert calls == []
        tiny_lm.capture(
            torch.ones(1, 4, dtype=torch.long),
            tiny_lm.resolve_hooks("blocks.0.hook_resid_post"),
            stop_early=False,
        )
        assert calls == [1]
    finally:
        handle.remove()


def test_hooks_removed_after_exception(tiny_lm):
    points = tiny_lm.resolve_hooks(["blocks.0.hook_resid_post", "blocks.1.attn.hook_z"])
    before = hooks_left(tiny_lm.module)
    with pytest.raises(RuntimeError, match="boom"):
        with attached(tiny_lm.module, points):
            assert hooks_left(tiny_lm.module) == before + 2
            raise RuntimeError("boom")
    assert hooks_left(tiny_lm.module) == before
