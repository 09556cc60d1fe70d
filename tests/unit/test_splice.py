import pytest
import torch

from saekit.hooks import hooks_left
from saekit.sae import DictionaryConfig, build
from saekit.splice import LatentEdit, replacing, spliced


@pytest.fixture
def sae(tiny_lm):
    torch.manual_seed(0)
    return build(DictionaryConfig("topk", 32, 64, k=8, hook_name="blocks.0.hook_resid_post"))


def logits(model, ids):
    return model.forward(ids)


def test_keep_error_without_edit_leaves_the_model_unchanged(tiny_lm, sae):
    ids = torch.randint(0, 500, (2, 9))
    clean = logits(tiny_lm, ids)
    before = hooks_left(tiny_lm.module)
    with torch.no_grad(), spliced(tiny_lm, sae, keep_error=True):
        assert hooks_left(tiny_lm.module) == before + 1
        same = logits(tiny_lm, ids)
    torch.testing.assert_close(same, clean)
    assert hooks_left(tiny_lm.module) == before


def test_splice_replaces_the_activation_by_the_reconstruction(tiny_lm, sae):
    ids = torch.randint(0, 500, (1, 6))
    points = tiny_lm.resolve_hooks(["blocks.0.hook_resid_post", "blocks.1.hook_resid_pre"])
    with torch.no_grad(), spliced(tiny_lm, sae):
        acts = tiny_lm.capture(ids, points, stop_early=False)
    clean = tiny_lm.capture(ids, points[:1])["blocks.0.hook_resid_post"]
    torch.testing.assert_close(acts["blocks.1.hook_resid_pre"], sae(clean).reconstruction)


def test_edits_and_position_masks(tiny_lm, sae):
    ids = torch.randint(0, 500, (1, 6))
    clean = logits(tiny_lm, ids)
    boost = LatentEdit(add={3: 50.0})
    with torch.no_grad(), spliced(tiny_lm, sae, edit=boost, keep_error=True):
        boosted = logits(tiny_lm, ids)
    assert not torch.allclose(boosted, clean)
    where = torch.tensor([[False, False, False, True, True, True]])
    with torch.no_grad(), spliced(tiny_lm, sae, edit=boost, keep_error=True, where=where):
        partial = logits(tiny_lm, ids)
    torch.testing.assert_close(partial[:, :3], clean[:, :3])  # causal: early positions untouched
    latents = torch.rand(2, 64)
    edited = LatentEdit(ablate=[0], clamp={1: 7.0}).apply(latents)
    assert edited[:, 0].eq(0).all() and edited[:, 1].eq(7).all()


def test_replacing_an_input_site_and_errors(tiny_lm, sae):
    ids = torch.randint(0, 500, (1, 5))
    with torch.no_grad(), replacing(tiny_lm, "blocks.1.attn.hook_z", torch.zeros_like):
        zeroed = logits(tiny_lm, ids)
    assert not torch.allclose(zeroed, logits(tiny_lm, ids))
    with pytest.raises(ValueError, match="attention weights"):
        with replacing(tiny_lm, "blocks.0.attn.hook_pattern", torch.zeros_like):
            pass
    no_hook = build(DictionaryConfig("topk", 32, 64, k=8))
    with pytest.raises(ValueError, match="records no hook"):
        with spliced(tiny_lm, no_hook):
            pass
