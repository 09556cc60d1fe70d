import pytest
import torch

from saekit.hooks import (
    attached,
    glob_names,
    hooks_left,
    keeping_grad,
    natural_key,
    patching,
    replacing,
)


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


def logits_of(model, ids):
    return model.module(input_ids=ids, use_cache=False).logits


def test_patching_from_a_cached_run_and_layout_round_trips(tiny_lm):
    clean, corrupt = torch.randint(0, 500, (2, 6)), torch.randint(0, 500, (2, 6))
    (resid,) = tiny_lm.resolve_hooks("blocks.1.hook_resid_post")
    (z,) = tiny_lm.resolve_hooks("blocks.1.attn.hook_z")  # input site, heads layout
    before = hooks_left(tiny_lm.module)
    with torch.no_grad():
        cache = tiny_lm.capture(corrupt, [resid, z], stop_early=False)
        assert cache[z.name].shape == (2, 6, 4, 8)
        with patching(tiny_lm.module, resid, cache[resid.name]):
            patched = logits_of(tiny_lm, clean)
        torch.testing.assert_close(patched, logits_of(tiny_lm, corrupt))
        own = tiny_lm.capture(clean, [z], stop_early=False)[z.name]
        with patching(tiny_lm.module, z, own):  # heads split and merged back exactly
            torch.testing.assert_close(logits_of(tiny_lm, clean), logits_of(tiny_lm, clean))
        last = torch.zeros(2, 6, dtype=torch.bool)
        last[:, -1] = True
        with patching(tiny_lm.module, z, cache[z.name], where=last):
            only_last = logits_of(tiny_lm, clean)
        torch.testing.assert_close(only_last[:, :-1], logits_of(tiny_lm, clean)[:, :-1])
        assert not torch.allclose(only_last[:, -1], logits_of(tiny_lm, clean)[:, -1])
        with pytest.raises(ValueError, match="patch between runs of equal shape"):
            with patching(tiny_lm.module, resid, cache[resid.name][:, :3]):
                logits_of(tiny_lm, clean)
    assert hooks_left(tiny_lm.module) == before


def test_kept_gradients_predict_the_effect_of_a_small_change_at_every_point(tiny_lm):
    ids = torch.randint(0, 500, (1, 5))
    points = tiny_lm.resolve_hooks(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"])
    before = hooks_left(tiny_lm.module)

    def metric(logits):
        return logits[0, -1, 7] - logits[0, -1, 3]

    with keeping_grad(tiny_lm.module, points) as record:
        metric(logits_of(tiny_lm, ids)).backward()
    gradients = record.gradients()
    torch.manual_seed(1)
    for point in points:
        assert gradients[point.name].shape == record.activations[point.name].shape
        direction = torch.randn_like(record.activations[point.name]) * 1e-3
        changed = []
        for step in (direction, -direction):  # a central difference: second order cancels
            with torch.no_grad(), replacing(tiny_lm.module, point, step.add):
                changed.append(float(metric(logits_of(tiny_lm, ids))))
        predicted = float((gradients[point.name] * direction).sum())
        assert abs(predicted) > 1e-6
        assert (changed[0] - changed[1]) / 2 == pytest.approx(predicted, rel=0.02)
    assert hooks_left(tiny_lm.module) == before
    with pytest.raises(RuntimeError, match="no gradient reached"):
        with torch.no_grad(), keeping_grad(tiny_lm.module, points) as record:
            logits_of(tiny_lm, ids)
        record.gradients()
