import pytest
import torch

from saekit.bottleneck import (
    bottleneck_on_corpus,
    codebook_bottleneck,
    finetune_bottleneck,
    next_token_loss,
)
from saekit.data.text import pack_windows
from saekit.hooks import hooks_left
from saekit.sae import DictionaryConfig, build

DOCS = [
    f"The river {i} flows past the old mill and the quiet town of number {i}." for i in range(60)
]


@pytest.fixture
def windows(tiny_lm):
    return pack_windows(DOCS, tiny_lm.tokenizer, context_length=24, n_windows=24)


def make_codebook(tiny_lm, windows):
    codebook = build(
        DictionaryConfig("codebook", 32, 64, k=2, hook_name="blocks.0.hook_resid_post")
    )
    points = tiny_lm.resolve_hooks("blocks.0.hook_resid_post")
    acts = tiny_lm.capture(windows.tokens[:8], points)["blocks.0.hook_resid_post"]
    codebook.initialise_from_data(acts.reshape(-1, 32))
    return codebook


def test_bottleneck_changes_the_model_only_inside_the_block(tiny_lm, windows):
    codebook = make_codebook(tiny_lm, windows)
    ids = windows.tokens[:2]
    clean = tiny_lm.forward(ids)
    before = hooks_left(tiny_lm.module)
    with torch.no_grad(), codebook_bottleneck(tiny_lm, codebook):
        through = tiny_lm.forward(ids)
    assert not torch.allclose(through, clean)
    assert hooks_left(tiny_lm.module) == before
    torch.testing.assert_close(tiny_lm.forward(ids), clean)


def test_finetuning_the_codebook_lowers_loss_and_leaves_the_model_alone(tiny_lm, windows):
    codebook = make_codebook(tiny_lm, windows)
    weights = {k: v.clone() for k, v in tiny_lm.module.state_dict().items()}
    report = finetune_bottleneck(tiny_lm, codebook, windows, windows, steps=15, lr=1e-2)
    assert report.ce_after < report.ce_before and not report.trained_model
    for name, value in tiny_lm.module.state_dict().items():
        assert torch.equal(value, weights[name]), name
    assert all(not p.requires_grad for p in tiny_lm.module.parameters())
    assert abs(report.ce_clean - float(next_token_loss(tiny_lm, windows))) < 1e-5


def test_finetuning_the_model_too(tiny_lm_folder, windows):
    from saekit import load_model

    model = load_model(str(tiny_lm_folder), "cpu")  # a private copy: its weights will change
    codebook = make_codebook(model, windows)
    report = finetune_bottleneck(
        model, codebook, windows, windows, steps=10, lr=1e-2, model_lr=1e-3, train_model=True
    )
    assert report.trained_model and report.ce_after < report.ce_before


def test_bottleneck_at_a_hook_the_model_lacks(tiny_lm, windows):
    codebook = make_codebook(tiny_lm, windows)
    with pytest.raises(KeyError, match="unknown hook point 'blocks.9.hook_resid_post'"):
        with codebook_bottleneck(tiny_lm, codebook, "blocks.9.hook_resid_post"):
            pass


def test_the_bottleneck_on_a_corpus_file(tiny_lm, windows, tmp_path):
    (tmp_path / "c.txt").write_text("\n\n".join(DOCS))
    codebook = make_codebook(tiny_lm, windows)
    report = bottleneck_on_corpus(tiny_lm, codebook, str(tmp_path / "c.txt"), 24, 12, 4, steps=3)
    assert report.ce_clean > 0 and report.ce_after > 0 and report.steps == 3
    topk = build(DictionaryConfig("topk", 32, 64, k=2))
    with pytest.raises(ValueError, match="is a topk, not a codebook"):
        bottleneck_on_corpus(tiny_lm, topk, str(tmp_path / "c.txt"))
