"""Shared fixtures: a tiny random Llama with the real tokenizer (fast unit tests) and the real
default model (integration tests), each built once per test run."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from saekit.models.offline import fp32_copy_of, offline_gguf_path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def smollm2_folder():
    """The cached fp32 Hugging Face copy of SmolLM2-135M (made from the GGUF on first use)."""
    return fp32_copy_of(offline_gguf_path("smollm2-135m"))


@pytest.fixture(scope="session")
def tiny_lm_folder(tmp_path_factory, smollm2_folder):
    """A 2-layer random Llama with SmolLM2's tokenizer, saved as a Hugging Face folder."""
    tokenizer = AutoTokenizer.from_pretrained(smollm2_folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm(tiny_lm_folder):
    from saekit import load_model

    return load_model(str(tiny_lm_folder), "cpu")


@pytest.fixture(scope="session")
def smollm2():
    """The real default model, loaded once for all integration tests."""
    from saekit import load_model

    return load_model("smollm2-135m", "cpu")
