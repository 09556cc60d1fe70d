"""Folders written from the documented SAELens and sparsify layouts, read back by saekit and
checked against each library's own encode rule (re-implemented here independently)."""

import json

import pytest
import torch
from safetensors.torch import save_file

from saekit.sae import DictionaryConfig, build, load, save, save_sparsify

D_IN, D_SAE, K = 6, 20, 3


def weights(**extra):
    torch.manual_seed(3)
    base = {
        "W_enc": torch.randn(D_IN, D_SAE),
        "b_enc": torch.randn(D_SAE) * 0.1,
        "W_dec": torch.randn(D_SAE, D_IN),
        "b_dec": torch.randn(D_IN) * 0.1,
    }
    return base | extra


def write_saelens(path, cfg, tensors):
    path.mkdir()
    (path / "cfg.json").write_text(json.dumps(cfg))
    save_file(tensors, path / "sae_weights.safetensors")


def saelens_pre(w, x):
    return (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]


def test_saelens_v6_topk(tmp_path):
    w = weights()
    cfg = {
        "architecture": "topk",
        "d_in": D_IN,
        "d_sae": D_SAE,
        "k": K,
        "dtype": "float32",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "metadata": {"model_name": "gpt2", "hook_name": "blocks.3.hook_resid_post"},
    }
    write_saelens(tmp_path / "sae", cfg, w)
    sae = load(tmp_path / "sae")
    x = torch.randn(9, D_IN)
    top = saelens_pre(w, x).topk(K, dim=-1)
    acts = torch.zeros(9, D_SAE).scatter(-1, top.indices, top.values.relu())
    torch.testing.assert_close(sae.encode(x), acts)
    torch.testing.assert_close(sae(x).reconstruction, acts @ w["W_dec"] + w["b_dec"])
    assert sae.cfg.hook_name == "blocks.3.hook_resid_post" and sae.cfg.model_name == "gpt2"


def test_saelens_v6_jumprelu(tmp_path):
    w = weights(threshold=torch.rand(D_SAE) * 0.5)
    cfg = {"architecture": "jumprelu", "d_in": D_IN, "d_sae": D_SAE, "metadata": {}}
    write_saelens(tmp_path / "sae", cfg, w)
    x = torch.randn(9, D_IN)
    pre = saelens_pre(w, x)
    torch.testing.assert_close(
        load(tmp_path / "sae").encode(x), pre.relu() * (pre > w["threshold"])
    )


def test_saelens_gated(tmp_path):
    w = weights()
    del w["b_enc"]
    w |= {
        "b_gate": torch.randn(D_SAE) * 0.1,
        "r_mag": torch.randn(D_SAE) * 0.1,
        "b_mag": torch.randn(D_SAE) * 0.1,
    }
    write_saelens(tmp_path / "sae", {"architecture": "gated", "d_in": D_IN, "d_sae": D_SAE}, w)
    x = torch.randn(9, D_IN)
    x_in = x - w["b_dec"]
    gate = (x_in @ w["W_enc"] + w["b_gate"]) > 0
    magnitude = (x_in @ (w["W_enc"] * w["r_mag"].exp()) + w["b_mag"]).relu()
    torch.testing.assert_close(load(tmp_path / "sae").encode(x), gate * magnitude)


def test_saelens_old_flat_config_with_topk_activation(tmp_path):
    w = weights()
    cfg = {
        "model_name": "gpt2-small",
        "hook_name": "blocks.8.hook_resid_pre",
        "hook_layer": 8,
        "d_in": D_IN,
        "d_sae": D_SAE,
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": K},
        "apply_b_dec_to_input": False,
        "normalize_activations": "none",
        "context_size": 128,
    }
    write_saelens(tmp_path / "sae", cfg, w)
    sae = load(tmp_path / "sae")
    assert sae.cfg.architecture == "topk" and sae.cfg.k == K and sae.cfg.hook_name.endswith("pre")
    x = torch.randn(4, D_IN)
    top = (x @ w["W_enc"] + w["b_enc"]).topk(K, dim=-1)
    acts = torch.zeros(4, D_SAE).scatter(-1, top.indices, top.values.relu())
    torch.testing.assert_close(sae.encode(x), acts)


def test_sparsify_folder(tmp_path):
    torch.manual_seed(4)
    enc_w, enc_b = torch.randn(D_SAE, D_IN), torch.randn(D_SAE) * 0.1
    W_dec, b_dec = torch.randn(D_SAE, D_IN), torch.randn(D_IN) * 0.1
    (tmp_path / "sp").mkdir()
    (tmp_path / "sp" / "cfg.json").write_text(
        json.dumps(
            {
                "activation": "topk",
                "expansion_factor": 4,
                "normalize_decoder": True,
                "num_latents": D_SAE,
                "k": K,
                "multi_topk": False,
                "skip_connection": False,
                "transcode": False,
                "d_in": D_IN,
            }
        )
    )
    save_file(
        {"encoder.weight": enc_w, "encoder.bias": enc_b, "W_dec": W_dec, "b_dec": b_dec},
        tmp_path / "sp" / "sae.safetensors",
    )
    sae = load(tmp_path / "sp")
    x = torch.randn(7, D_IN)
    top = ((x - b_dec) @ enc_w.T + enc_b).relu().topk(K, dim=-1)  # sparsify's rule
    expected = (top.values[..., None] * W_dec[top.indices]).sum(1) + b_dec
    torch.testing.assert_close(sae(x).reconstruction, expected)
    save_sparsify(sae, tmp_path / "again")
    torch.testing.assert_close(load(tmp_path / "again")(x).reconstruction, expected)


def test_batchtopk_saves_as_jumprelu_with_its_threshold(tmp_path):
    sae = build(DictionaryConfig("batchtopk", D_IN, D_SAE, k=K))
    sae.training_loss(torch.randn(32, D_IN), torch.randn(32, D_IN))
    save(sae, tmp_path / "b")
    cfg = json.loads((tmp_path / "b" / "cfg.json").read_text())
    assert (
        cfg["architecture"] == "jumprelu" and cfg["saekit"]["config"]["architecture"] == "batchtopk"
    )
    assert type(load(tmp_path / "b")).__name__ == "JumpReLUSAE"


def test_bad_folders_get_clear_errors(tmp_path):
    write_saelens(
        tmp_path / "u", {"architecture": "crosscoder", "d_in": D_IN, "d_sae": D_SAE}, weights()
    )
    with pytest.raises(ValueError, match="unknown architecture 'crosscoder'"):
        load(tmp_path / "u")
    write_saelens(
        tmp_path / "m", {"architecture": "jumprelu", "d_in": D_IN, "d_sae": D_SAE}, weights()
    )
    with pytest.raises(ValueError, match="do not match a jumprelu dictionary"):
        load(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="not a dictionary folder"):
        load(tmp_path)
    sae = build(DictionaryConfig("topk", D_IN, D_SAE, k=K))
    with pytest.raises(ValueError, match="data has width 5 but"):
        sae.encode(torch.randn(2, 5))


def test_sparsify_skip_transcoder(tmp_path):
    torch.manual_seed(5)
    enc_w, enc_b = torch.randn(D_SAE, D_IN), torch.randn(D_SAE) * 0.1
    W_dec, b_dec = torch.randn(D_SAE, D_IN), torch.randn(D_IN) * 0.1
    W_skip = torch.randn(D_IN, D_IN)
    (tmp_path / "sp").mkdir()
    raw = {"activation": "topk", "num_latents": D_SAE, "k": K, "d_in": D_IN}
    raw |= {"skip_connection": True, "transcode": True}
    (tmp_path / "sp" / "cfg.json").write_text(json.dumps(raw))
    tensors = {"encoder.weight": enc_w, "encoder.bias": enc_b, "W_dec": W_dec, "b_dec": b_dec}
    save_file(tensors | {"W_skip": W_skip}, tmp_path / "sp" / "sae.safetensors")
    sae = load(tmp_path / "sp")
    assert sae.cfg.skip
    x = torch.randn(7, D_IN)
    top = (x @ enc_w.T + enc_b).relu().topk(K, dim=-1)  # sparsify's transcoder rule
    expected = (top.values[..., None] * W_dec[top.indices]).sum(1) + b_dec + x @ W_skip.mT
    torch.testing.assert_close(sae(x).reconstruction, expected)
    save_sparsify(sae, tmp_path / "again")
    torch.testing.assert_close(load(tmp_path / "again")(x).reconstruction, expected)
