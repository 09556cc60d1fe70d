import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from saekit.cli import main
from saekit.store import ActivationStore

ROOT = Path(__file__).resolve().parents[2]


def test_python_dash_m_from_the_repo_root_reaches_the_analysis_layer():
    out = subprocess.run(
        [sys.executable, "-c", "import saekit.analysis, saekit; print(saekit.analysis.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()) == ROOT / "analysis" / "__init__.py"
    help_text = subprocess.run(
        [sys.executable, "-m", "saekit", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "collect" in help_text and "store" in help_text


def test_store_import_and_info(tmp_path, capsys):
    array = np.random.default_rng(0).standard_normal((300, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", array)
    assert (
        main(
            [
                "store",
                "import",
                str(tmp_path / "x.npy"),
                "--out",
                str(tmp_path / "s"),
                "--hook",
                "resid",
            ]
        )
        == 0
    )
    assert np.array_equal(ActivationStore.open(tmp_path / "s").activations("resid").numpy(), array)
    assert main(["store", "info", str(tmp_path / "s")]) == 0
    assert '"rows": 300' in capsys.readouterr().out


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "x.csv").write_text("1,2")
    assert main(["store", "import", str(tmp_path / "x.csv"), "--out", str(tmp_path / "s")]) == 2
    assert "expected a .npy or .safetensors file" in capsys.readouterr().err


def test_collect_cli_on_the_tiny_model(tiny_lm_folder, tmp_path):
    assert (
        main(
            [
                "collect",
                "--model",
                str(tiny_lm_folder),
                "--hooks",
                "blocks.1.attn.hook_z",
                "--tokens",
                "256",
                "--context-length",
                "32",
                "--out",
                str(tmp_path / "s"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    store = ActivationStore.open(tmp_path / "s")
    assert store.manifest.hooks["blocks.1.attn.hook_z"].shape == [4, 8]
    assert store.manifest.hooks["blocks.1.attn.hook_z"].module == "model.layers.1.self_attn.o_proj"


def test_a_relative_corpus_is_recorded_resolved_with_its_repairs(
    tiny_lm_folder, tiny_lm, tmp_path, monkeypatch
):
    from saekit.evals.evaluate import store_windows

    run = tmp_path / "run"
    run.mkdir()
    line = json.dumps({"text": "Rivers \ud800 flow to the sea. " * 20})
    (run / "corpus.jsonl").write_text((line + "\n") * 8)
    monkeypatch.chdir(run)
    args = ["collect", "--model", str(tiny_lm_folder), "--data", "corpus.jsonl"]
    args += ["--hooks", "blocks.1.hook_resid_post", "--no-exclude-special", "--tokens", "64"]
    args += ["--context-length", "16", "--out", "s", "--device", "cpu"]
    assert main(args) == 0
    manifest = ActivationStore.open(run / "s").manifest
    assert manifest.config["data"] == str(run / "corpus.jsonl")
    assert manifest.replaced_surrogates > 0
    monkeypatch.chdir(tmp_path)  # a later stage, run from another folder
    windows = store_windows(ActivationStore.open(run / "s"), tiny_lm, 4)
    assert torch.equal(windows.tokens, ActivationStore.open(run / "s").tokens.view(-1, 16)[:4])
