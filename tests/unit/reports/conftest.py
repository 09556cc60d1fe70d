"""A small text run to report on: a store of the tiny Llama harvested from a corpus with hostile
strings, a TopK SAE trained on it (metrics.jsonl, eval.json, feature statistics) and an analyses
folder holding one result of each kind. Built once per test run."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import saekit
from saekit.artifacts import EVAL_REPORT
from saekit.cli import main as cli
from saekit.evals.feature_stats import FeatureStats, feature_stats
from saekit.reports import DashboardConfig, ReportConfig, build_report
from saekit.train import StoreSource, train
from tests.unit.train.commands import train_config

HOOK = "blocks.1.hook_resid_post"
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'
UNICODE = "Ω≈ç√∫ 日本語 \u202etxet desrever\u202c 🙂 zero\u200bwidth"
HOSTILE = [SCRIPT, IMAGE, UNICODE]
DEAD_LATENT = 7
LINE_SEPARATED = "lakes\u2028and seas"
CORPUS = [
    f"Paragraph {i}: the river {word} past {SCRIPT} and {IMAGE} while {UNICODE} stays."
    for i, word in enumerate(["flows", "runs", "bends", "floods", "winds", "dries"] * 12)
]


def _kill_latent(sae, folder, latent: int) -> None:
    """Make one latent dead (it never fires), in the saved dictionary and in `sae`."""
    path = folder / "sae_weights.safetensors"
    weights = load_file(path)
    weights["b_enc"][latent] = -1e4
    save_file(weights, path)
    with torch.no_grad():
        sae.b_enc[latent] = -1e4


@pytest.fixture(scope="session")
def text_run(tiny_lm, tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    store = saekit.harvest(
        tiny_lm, data=CORPUS, hooks=HOOK, out=root / "acts", tokens=6_000, context_length=64
    )
    config = train_config(
        d_sae=64, k=4, tokens=30_000, batch_size=256, hook_name=HOOK, log_to="jsonl", log_every=5
    )
    (sae,) = train(StoreSource(store, [HOOK]), config, root / "sae")
    _kill_latent(sae, root / "sae", DEAD_LATENT)
    (root / "sae" / EVAL_REPORT).write_text(saekit.evaluate(sae, store).to_json())
    feature_stats(sae, store).save(root / "sae")
    return root, store, sae


@pytest.fixture(scope="session")
def explained_latent(text_run) -> int:
    """The latent the auto-interp record explains: the densest, so it has contexts to show."""
    root, _, _ = text_run
    return int(FeatureStats.load(root / "sae").density.argmax())


GRAPH_PROMPT = f"The river {SCRIPT} flows {IMAGE} past"


def _graph(model, folder, corpus_file) -> None:
    """An attribution graph of the tiny Llama through random transcoders (every node kept)."""
    from saekit.analysis.graphs.run import GraphConfig, run_graph
    from tests.unit.analysis.graphs.helpers import random_transcoders

    config = GraphConfig(
        prompt=GRAPH_PROMPT,
        node_threshold=1.0,
        edge_threshold=1.0,
        interventions=2,
        context_windows=4,
        data=str(corpus_file),
    )
    run_graph(model, random_transcoders(model), config, folder, progress=False)


@pytest.fixture(scope="session")
def analyses(tmp_path_factory, explained_latent, tiny_lm):
    folder = tmp_path_factory.mktemp("analyses")
    corpus_file = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    corpus_file.write_text("\n".join(CORPUS))
    _graph(tiny_lm, folder / "graph", corpus_file)
    probes = [{"concept": "sentiment", "accuracy": [0.5, 0.8, 0.95], "depth": 2, "threshold": 0.9}]
    (folder / "probes.json").write_text(json.dumps(probes))
    circuits = folder / "circuits"
    circuits.mkdir()
    results = {
        "task": "ioi",
        "model": "tiny",
        "can_do": True,
        "capability": {
            "clean_metric": 2.0,
            "corrupt_metric": 0.1,
            "clean_accuracy": 0.9,
            "corrupt_accuracy": 0.2,
        },
        "methods": [
            {
                "method": "atp",
                "seconds": 1.5,
                "roc_auc": {"patching": {"0.05": 0.91}, "response": {"0.05": 0.77}},
            }
        ],
    }
    (circuits / "circuits.json").write_text(json.dumps(results))
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 3, (400, 2))
    latents = np.c_[factors + rng.normal(0, 0.1, (400, 2)), rng.normal(size=400)]
    np.save(folder / "z.npy", latents)
    np.save(folder / "f.npy", factors)
    cli(
        [
            "disentangle",
            "--latents",
            str(folder / "z.npy"),
            "--factors",
            str(folder / "f.npy"),
            "--metrics",
            "mig",
            "--resamples",
            "0",
            "--out",
            str(folder / "table.json"),
        ]
    )
    record = {
        "latent": explained_latent,
        "explanation": f"rivers {SCRIPT} {UNICODE}",
        "scores": {"detection": {"auroc": 0.8}},
    }
    raw = {"latent": DEAD_LATENT, "explanation": LINE_SEPARATED, "scores": {}}  # U+2028 unescaped
    lines = [json.dumps(record), json.dumps(raw, ensure_ascii=False), "{torn"]
    (folder / "results.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def full_report(text_run, analyses, tmp_path_factory):
    root, _, _ = text_run
    out = tmp_path_factory.mktemp("report")
    config = ReportConfig(
        str(root / "sae"),
        str(root / "acts"),
        out=str(out / "report.html"),
        analyses=[str(analyses)],
        neuronpedia=str(out / "neuronpedia"),
        dashboards=DashboardConfig(top=6, quantiles=2, per_quantile=1),
    )
    return build_report(config)
