"""Fixtures shared by the integration tests: a layer-6 store of the default model and a TopK
SAE trained on it (each built once per test run)."""

import pytest

import saekit
from saekit.train import StoreSource, train
from tests.unit.train.commands import train_config

HOOK = "blocks.6.hook_resid_post"


@pytest.fixture(scope="session")
def layer6_store(smollm2, tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "l6"
    return saekit.harvest(smollm2, hooks=HOOK, out=out, tokens=32_768, batch_size=16)


@pytest.fixture(scope="session")
def layer6_sae(layer6_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("sae") / "topk"
    config = train_config(
        d_sae=1152, k=32, tokens=160_000, batch_size=1024, hook_name=HOOK, dead_window=40_000
    )
    (sae,) = train(
        StoreSource(layer6_store, [HOOK]), config, out, model_name="smollm2-135m", progress=False
    )
    return out, sae
