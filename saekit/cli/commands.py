"""The `saekit` subcommands' bodies: each takes the parsed arguments and returns an exit code.
Heavy imports happen inside, so `saekit --help` stays fast."""

import argparse
import json
import os

from saekit.artifacts import EVAL_REPORT, write_text_atomic
from saekit.cli.args import dataclass_from_args


def _rank_device(requested: str | None) -> str:
    """--device, or else this torchrun rank's GPU (LOCAL_RANK), or else the CPU."""
    import torch

    if requested:
        return requested
    return f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if torch.cuda.is_available() else "cpu"


def collect(args: argparse.Namespace) -> int:
    from saekit.collect import CollectConfig, run_collect
    from saekit.distributed import process_group_from_env
    from saekit.models import load_model

    config = dataclass_from_args(CollectConfig, args)
    with process_group_from_env() as distributed:
        model = load_model(config.model, _rank_device(args.device))
        store = run_collect(model, config, config.data, args.out, distributed)
    if distributed.is_main:
        print(f"{store.folder}: {len(store)} rows at {', '.join(store.hooks)}")
    return 0


def _training_source(args: argparse.Namespace, config, device: str):
    """The store or array named by --acts, or else live activations from --model."""
    from saekit.train.sources import source_from_path

    hooks = [h for h in (config.dictionary.hook_name, config.dictionary.hook_name_out) if h]
    if args.acts is not None:
        return source_from_path(args.acts, hooks), None
    from saekit.models import load_model
    from saekit.train.live import LiveConfig, LiveSource

    live = dataclass_from_args(LiveConfig, args)
    return LiveSource(load_model(live.model, device), live), live.model


def train(args: argparse.Namespace) -> int:
    from saekit.distributed import process_group_from_env
    from saekit.train import TrainConfig, train

    config = dataclass_from_args(TrainConfig, args)
    if args.per_hook and config.dictionary.hook_name:
        raise ValueError("--per-hook trains every hook of the data: leave out --hook-name")
    device = _rank_device(args.device)
    with process_group_from_env() as distributed:
        source, model_name = _training_source(args, config, device)
        configs, outs = [config], [args.out]
        if args.per_hook:
            configs = [config.for_hook(hook) for hook in source.hooks]
            outs = [os.path.join(args.out, hook) for hook in source.hooks]
        trained = train(
            source,
            configs,
            outs,
            model_name,
            device=device,
            distributed=distributed,
            distribute_dictionaries=args.distribute_dictionaries,
        )
    for dictionary in trained:
        where = os.path.join(args.out, dictionary.cfg.hook_name) if args.per_hook else args.out
        print(
            f"{where}: {dictionary.cfg.architecture} d_in={dictionary.cfg.d_in} "
            f"d_sae={dictionary.cfg.d_sae}"
        )
    return 0


def eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from saekit.evals import evaluate
    from saekit.evals.feature_stats import feature_stats
    from saekit.models import load_model
    from saekit.sae import load
    from saekit.store import ActivationStore

    dictionary = load(args.dictionary)
    store = ActivationStore.open(args.acts, verify="size")
    model = load_model(args.model, args.device) if args.model else None
    report = evaluate(dictionary, store, model, max_rows=args.max_rows, lm_windows=args.lm_windows)
    write_text_atomic(Path(args.dictionary) / EVAL_REPORT, report.to_json())
    print(report.to_json())
    print(f"evaluated on {report.rows_used}")
    if args.feature_stats:
        print(f"feature statistics: {feature_stats(dictionary, store).save(args.dictionary)}")
    return 0


def steer(args: argparse.Namespace) -> int:
    from saekit.models import load_model
    from saekit.sae import load
    from saekit.steer import feature_max, generate, steer

    model = load_model(args.model, args.device)
    dictionary = load(args.dictionary)
    peak = feature_max(args.dictionary, args.feature)
    print("unsteered:", generate(model, args.prompt, args.max_new_tokens, args.seed))
    text = steer(
        model,
        dictionary,
        args.feature,
        args.strength,
        args.prompt,
        peak,
        args.max_new_tokens,
        args.seed,
    )
    print(f"feature {args.feature} x{args.strength}:", text)
    return 0


def bottleneck(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from saekit.bottleneck import bottleneck_on_corpus
    from saekit.models import load_model
    from saekit.sae import load

    model, codebook = load_model(args.model, args.device), load(args.dictionary)
    settings = (args.data, args.context_length, args.windows, args.eval_windows, args.steps)
    report = bottleneck_on_corpus(model, codebook, *settings, train_model=args.train_model)
    print(json.dumps(asdict(report), indent=1))
    return 0


def disentangle(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np
    from scipy import sparse

    from saekit.analysis.disentanglement import MetricOptions, Uncertainty
    from saekit.analysis.disentanglement.table import (  # CLI may reach it
        METRICS,
        metric_table,
        nmi_path,
        save_table,
        table_text,
    )
    from saekit.cli.args import dataclass_from_args

    path = Path(args.latents)
    latents = sparse.load_npz(path) if path.suffix == ".npz" else np.load(path)
    uncertainty = dataclass_from_args(Uncertainty, args)
    table = metric_table(
        latents,
        np.load(args.factors),
        args.metrics or METRICS,
        dataclass_from_args(MetricOptions, args),
        uncertainty,
    )
    print(table_text(table, uncertainty.confidence if uncertainty.resamples else None))
    if args.out:
        save_table(table, args.out, latents, np.load(args.factors))
        print(f"scores in {args.out}, normalised MI matrix in {nmi_path(args.out)}")
    return 0


def interpret(args: argparse.Namespace) -> int:
    from saekit.analysis.autointerp.latents import parse_latents
    from saekit.analysis.autointerp.pipeline import InterpretConfig, interpret, openai_client
    from saekit.analysis.autointerp.summary import summary_text
    from saekit.analysis.autointerp.vocab import vocab_projection
    from saekit.latents.sources import DictionarySource, NeuronSource, check_pairing
    from saekit.models import load_model
    from saekit.sae import load
    from saekit.store import ActivationStore

    if bool(args.dictionary) == bool(args.neurons):
        raise ValueError("pass either --dictionary or --neurons HOOK")
    config = dataclass_from_args(InterpretConfig, args)
    store = ActivationStore.open(args.acts, verify="size")
    client = openai_client(config) if config.client == "openai" else None  # before slow work
    model = load_model(args.model, args.device)
    vocab = None
    if args.neurons:
        source = NeuronSource.from_store(store, args.neurons)
    else:
        dictionary = load(args.dictionary)
        check_pairing(dictionary, store.manifest.model, store.hooks)
        source = DictionarySource(dictionary)
        latents = parse_latents(config.latents, source.n_latents, config.examples.seed)
        vocab = vocab_projection(dictionary, model, latents)
    run = interpret(source, store, model, args.out, config, vocab, client)
    print(summary_text(run.results))
    print(f"results in {args.out}/results.jsonl")
    return 0


def hooks(args: argparse.Namespace) -> int:
    from saekit.models import load_model

    model = load_model(args.model, "cpu")
    names = model.resolve_hooks(args.filter) if args.filter else None
    for name in [p.name for p in names] if names else model.hook_names():
        print(name)
    return 0


def store_import(args: argparse.Namespace) -> int:
    from saekit.store.importing import import_array

    store = import_array(args.source, args.out, hook=args.hook, key=args.key)
    print(f"{store.folder}: {len(store)} rows, d={store.d(args.hook)}")
    return 0


def store_info(args: argparse.Namespace) -> int:
    from saekit.store import ActivationStore

    store = ActivationStore.open(args.path, verify=args.verify)
    manifest = store.manifest
    info = {
        "model": manifest.model,
        "complete": manifest.complete,
        "rows": manifest.rows,
        "shards": len(manifest.shards),
        "hooks": {h: {"module": i.module, "shape": i.shape} for h, i in manifest.hooks.items()},
        "nonfinite_rows": manifest.nonfinite(),
    }
    print(json.dumps(info, indent=2))
    return 0


def probe(args: argparse.Namespace) -> int:
    from saekit.analysis.probing import run_probes
    from saekit.models import load_model

    results = run_probes(load_model(args.model, args.device), args.concepts, args.threshold)
    print("\n".join(results.summary_lines()))
    print(f"table and plot in {results.save(args.out).parent}")
    return 0


def report(args: argparse.Namespace) -> int:
    from saekit.reports import ReportConfig, build_report

    result = build_report(dataclass_from_args(ReportConfig, args))
    present = [name for name, there in result.sections.items() if there]
    print(
        f"report of {result.latents} latents in {result.path} ({result.bytes / 1e6:.1f} MB, "
        f"{result.seconds:.0f} s); sections with inputs: {', '.join(present)}"
    )
    print(f"open it in any browser: file://{result.path.resolve()}")
    return 0


def circuits(args: argparse.Namespace) -> int:
    from saekit.analysis.circuits.run import CircuitsConfig, run_circuits, summary_lines
    from saekit.models import load_model

    config = dataclass_from_args(CircuitsConfig, args)
    results = run_circuits(load_model(args.model, args.device), config, args.out)
    print("\n".join(summary_lines(results)))
    for point in results.get("feature_circuit", {}).get("faithfulness", []):
        print(f"  top {point['nodes']:5d} features: {point['fraction']:.1%} of the metric")
    print(f"results and plots in {args.out}")
    return 0


def transcoders(args: argparse.Namespace) -> int:
    from saekit.analysis.graphs.evaluate import evaluate_set
    from saekit.analysis.graphs.transcoders import (
        TranscoderSetConfig,
        held_back_windows,
        train_transcoder_set,
    )
    from saekit.models import load_model

    config = dataclass_from_args(TranscoderSetConfig, args)
    model = load_model(args.model, _rank_device(args.device))
    trained = train_transcoder_set(model, args.out, config, args.data)
    print(f"{args.out}: {len(trained.transcoders)} transcoders, d_sae={config.d_sae}")
    if trained.missing_layers():
        print(
            f"set evaluation skipped: it replaces every MLP at once, and this set holds layers "
            f"{sorted(trained.transcoders)} of {trained.n_layers} (train without --layers for "
            "one a graph can use)"
        )
    elif args.eval_windows:
        windows = held_back_windows(model, config, args.eval_windows, args.data)
        result = evaluate_set(model, trained, windows.inputs, ~windows.keep)
        result.save(args.out)
        for layer in result.layers:
            print(f"  layer {layer.layer:2d}: FVU {layer.fvu:.3f}  L0 {layer.l0:.1f}")
        print(
            f"next-token loss: clean {result.ce_clean:.3f}, every MLP replaced "
            f"{result.ce_replaced:.3f}, every MLP mean-ablated {result.ce_mean_ablated:.3f} "
            f"(loss recovered {result.loss_recovered:.3f})"
        )
    return 0


def graph(args: argparse.Namespace) -> int:
    from saekit.analysis.graphs.run import GraphConfig, run_graph
    from saekit.analysis.graphs.transcoders import load_transcoder_set
    from saekit.models import load_model

    config = dataclass_from_args(GraphConfig, args)
    device = _rank_device(args.device)
    transcoders = load_transcoder_set(args.transcoders, device)
    model = load_model(args.model or transcoders.model, device)
    summary = run_graph(model, transcoders, config, args.out, str(args.transcoders))
    nodes, edges, scores = summary["nodes"], summary["edges"], summary["scores"]
    top = summary["logits"][0]
    print(
        f"{summary['prompt']!r} -> {top['token']!r} (p={top['probability']:.2f}): "
        f"{nodes['features']} active features, {edges['nonzero']} edges; pruned to "
        f"{nodes['kept']} nodes, {edges['kept']} edges"
    )
    print(
        f"replacement {scores['replacement']:.3f}, completeness {scores['completeness']:.3f}; "
        f"{summary['seconds']['graph']:.1f} s, peak memory {summary['peak_memory_mb']:.0f} MB"
    )
    chosen_by = {
        "validation": "strongest",
        "validation_at_last": "last position's strongest",
        "validation_by_influence": "most influential",
    }
    for key, chosen in chosen_by.items():
        if key in summary:
            check = summary[key]
            print(
                f"interventions on the {chosen} features: correlation with the graph "
                f"{check['correlation_recomputed']:.3f} (attention recomputed), "
                f"{check['correlation_attention_frozen']:.3f} (attention frozen), "
                f"{check['correlation_frozen']:.3f} (linear replacement model)"
            )
    print(f"graph, pruned graph, scores and Neuronpedia JSON in {args.out}")
    return 0
