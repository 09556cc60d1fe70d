"""Every expected failure of a command is one line naming the problem and the fix, with a
non-zero exit code and no traceback (which `-v` shows): server faults, misspelled models."""

import numpy as np
import pytest

from saekit.cli import main

from .analysis.autointerp.fake_openai import FakeOpenAI


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture
def store(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((64, 4), dtype=np.float32))
    assert main(["store", "import", str(tmp_path / "x.npy"), "--out", str(tmp_path / "s")]) == 0
    return tmp_path / "s"


def _interpret(server, store, tmp_path, *extra) -> list[str]:
    return [
        *extra,
        "interpret",
        "--acts",
        str(store),
        "--neurons",
        "acts",
        "--client",
        "openai",
        "--base-url",
        server.base_url,
        "--client-model",
        "no-such-model",
        "--out",
        str(tmp_path / "interp"),
    ]


def _no_model_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the server was checked")

    monkeypatch.setattr("saekit.models.load_model", refuse)


def test_a_server_refusal_stops_interpret_before_the_model_loads(
    server, store, tmp_path, capsys, monkeypatch
):
    _no_model_load(monkeypatch)
    server.script.append((404, {"error": "The model `no-such-model` does not exist."}))
    assert main(_interpret(server, store, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("saekit interpret: error:") and "--client-model 'no-such-model'" in err
    assert len(server.requests) == 1  # one cheap preflight request, nothing more


def test_dash_v_shows_the_traceback(server, store, tmp_path, capsys, monkeypatch):
    _no_model_load(monkeypatch)
    server.script.append((401, {"error": "bad key"}))
    assert main(_interpret(server, store, tmp_path, "-v")) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "HTTP 401" in err


def test_a_misspelled_model_name_names_the_closest_built_in(tmp_path, capsys):
    code = main(["collect", "--model", "smollm2-135mm", "--tokens", "8", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "not a built-in name (closest: smollm2-135m)" in err
    assert "not a local folder" in err and "while offline" in err


def test_per_hook_training_refuses_a_hook_name(store, tmp_path, capsys):
    args = ["train", "--acts", str(store), "--per-hook", "--hook-name", "imported"]
    assert main([*args, "--out", str(tmp_path / "saes")]) == 2
    assert (
        "--per-hook trains every hook of the data: leave out --hook-name" in capsys.readouterr().err
    )


def test_per_hook_training_writes_a_dictionary_per_hook(store, tmp_path, capsys):
    from saekit.sae import load

    args = ["train", "--acts", str(store), "--per-hook", "--tokens", "256", "--batch-size", "32"]
    assert (
        main([*args, "--arch", "topk", "--k", "2", "--width", "8", "--out", str(tmp_path / "saes")])
        == 0
    )
    assert load(tmp_path / "saes" / "imported").cfg.hook_name == "imported"
    assert f"{tmp_path / 'saes' / 'imported'}: topk" in capsys.readouterr().out
