"""The compiled AuxK against its autograd reference: the same loss and the same gradients for
every parameter, on autoencoders and transcoders, at widths that are and are not multiples of
the kernel's 16 lanes; the reference wherever the kernel cannot serve."""

import pytest
import torch

from saekit.sae import DictionaryConfig, build
from saekit.sae.kernels import auxk_fused
from saekit.sae.kernels.auxk_fused import AuxKCode, fused_auxk_loss
from saekit.sae.kernels.compiled import ENABLE_VARIABLE, kernel_library


def twin_saes(**overrides):
    """A TopK SAE with the compiled AuxK and an identical one on the autograd path."""
    options = dict(architecture="topk", d_in=20, d_sae=96, k=3) | overrides
    fused = build(DictionaryConfig(**options))
    with torch.no_grad():
        fused.b_dec.uniform_(-0.5, 0.5)  # so that b_dec's gradient through x - b_dec is tested
        fused.b_enc.uniform_(-0.2, 0.2)
    reference = build(DictionaryConfig(**options))
    reference.load_state_dict(fused.state_dict())
    reference.fused_auxk = False
    return fused, reference


def losses_and_grads(sae, x, target, dead):
    out = sae.training_loss(x, target, dead_mask=dead)
    out.loss.backward()
    return out, {name: p.grad for name, p in sae.named_parameters()}


@pytest.mark.parametrize(
    "overrides, d_out",
    [
        (dict(), None),  # d_in 20: a 4-lane tail
        (dict(d_in=64, d_sae=256, k=8), None),  # whole vectors (the d_in-64 toy set's shape)
        (dict(d_out=37, hook_name_out="blocks.0.hook_mlp_out"), 37),  # transcoder: no x - b_dec
    ],
)
def test_fused_auxk_matches_the_autograd_path(overrides, d_out, kernel_path):
    torch.manual_seed(0)
    fused, reference = twin_saes(**overrides)
    d_in = fused.cfg.d_in
    x = torch.randn(50, d_in)
    target = torch.randn(50, d_out) if d_out else x
    dead = torch.rand(fused.d_sae) < 0.5  # k_aux = d_in / 2 of them, on every few rows
    fused_out, fused_grads = losses_and_grads(fused, x, target, dead)
    reference_out, reference_grads = losses_and_grads(reference, x, target, dead)
    assert fused_out.losses["auxk"] > 0
    torch.testing.assert_close(fused_out.losses["auxk"], reference_out.losses["auxk"])
    torch.testing.assert_close(fused_out.loss, reference_out.loss)
    for name, grad in reference_grads.items():
        torch.testing.assert_close(fused_grads[name], grad, msg=name)
    assert fused_grads["W_dec"][dead].abs().sum() > 0  # AuxK reached the dead latents


def test_latents_at_or_below_zero_pass_no_gradient(kernel_path):
    torch.manual_seed(1)
    W_enc = torch.randn(16, 32, requires_grad=True)
    b_enc = torch.zeros(32, requires_grad=True)
    W_dec = torch.randn(32, 16, requires_grad=True)
    pre = torch.tensor([[0.5, -0.3, 0.0, 1.5]])
    code = AuxKCode(torch.randn(1, 16), pre, torch.tensor([[3, 7, 9, 30]]), torch.randn(1, 16))
    fused_auxk_loss(code, W_enc, b_enc, W_dec, torch.zeros(16), share=1.0).backward()
    assert set(b_enc.grad.nonzero().flatten().tolist()) <= {3, 30}
    assert set(W_dec.grad.abs().sum(1).nonzero().flatten().tolist()) == {3, 30}
    expected = pre.relu() @ W_dec.detach()[[3, 7, 9, 30]] - code.residual
    torch.testing.assert_close(
        fused_auxk_loss(code, W_enc, b_enc, W_dec, torch.zeros(16), 1.0), expected.pow(2).sum()
    )


def small_code() -> tuple[AuxKCode, tuple[torch.Tensor, ...]]:
    """Two rows of a 3-latent code (d_in = d_out = 8, 16 latents) and the weights to score it."""
    indices = torch.tensor([[0, 1, 2]] * 2)
    code = AuxKCode(torch.randn(2, 8), torch.rand(2, 3), indices, torch.randn(2, 8))
    return code, (torch.randn(8, 16), torch.zeros(16), torch.randn(16, 8), torch.zeros(8))


def test_unserved_inputs_fall_back_to_the_reference(monkeypatch):
    code, weights = small_code()
    doubled = AuxKCode(*(t.double() if t.is_floating_point() else t for t in code))
    assert fused_auxk_loss(doubled, *weights, share=1.0) is None
    narrow_indices = code._replace(indices=code.indices.int())
    assert fused_auxk_loss(narrow_indices, *weights, share=1.0) is None
    monkeypatch.setenv(ENABLE_VARIABLE, "0")
    kernel_library.cache_clear()
    try:
        assert fused_auxk_loss(code, *weights, share=1.0) is None
    finally:
        kernel_library.cache_clear()


def test_large_codes_are_left_to_the_two_thread_autograd_path(monkeypatch, kernel_path):
    code, weights = small_code()
    work = 2 * 3 * (8 + 8)  # entries x (d_in + d_out)
    monkeypatch.setattr(auxk_fused, "MAX_WORK", work)
    assert fused_auxk_loss(code, *weights, share=1.0) is not None
    monkeypatch.setattr(auxk_fused, "MAX_WORK", work - 1)
    assert fused_auxk_loss(code, *weights, share=1.0) is None
