"""`saekit` command line: one subcommand per stage. The only core module that may reach
`saekit.analysis` (lazily)."""

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from saekit.cli_args import add_dataclass_arguments, dataclass_from_args
from saekit.collect import CollectConfig
from saekit.train.config import TrainConfig


def _collect(args: argparse.Namespace) -> int:
    from saekit.collect import run_collect
    from saekit.models import load_model

    config = dataclass_from_args(CollectConfig, args)
    store = run_collect(load_model(config.model, args.device), config, config.data, args.out)
    print(f"{store.folder}: {len(store)} rows at {', '.join(store.hooks)}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import torch

    from saekit.distributed import init_from_env
    from saekit.train import TrainConfig, train
    from saekit.train.sources import source_from_path

    config = dataclass_from_args(TrainConfig, args)
    distributed = init_from_env()
    source = source_from_path(args.acts, [h for h in (config.hook, config.hook_out) if h])
    local = f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if torch.cuda.is_available() else "cpu"
    (dictionary,) = train(
        source, config, args.out, device=args.device or local, distributed=distributed
    )
    print(
        f"{args.out}: {dictionary.cfg.architecture} d_in={dictionary.cfg.d_in} "
        f"d_sae={dictionary.cfg.d_sae}"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
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
    out = Path(args.dictionary) / "eval.json"
    out.write_text(report.to_json())
    print(report.to_json())
    if args.feature_stats:
        print(f"feature statistics: {feature_stats(dictionary, store).save(args.dictionary)}")
    return 0


def _steer(args: argparse.Namespace) -> int:
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


def _bottleneck(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from saekit.bottleneck import finetune_bottleneck
    from saekit.data.text import load_texts, pack_windows
    from saekit.models import load_model
    from saekit.sae import load

    model = load_model(args.model, args.device)
    codebook = load(args.dictionary)
    if codebook.cfg.architecture != "codebook":
        raise ValueError(f"{args.dictionary} holds a {codebook.cfg.architecture}, not a codebook")
    windows = pack_windows(
        load_texts(args.data, seed=0),
        model.tokenizer,
        args.context_length,
        args.windows + args.eval_windows,
    )
    train_w, eval_w = windows.split(args.windows)
    report = finetune_bottleneck(
        model, codebook, train_w, eval_w, steps=args.steps, train_model=args.train_model
    )
    print(json.dumps(asdict(report), indent=1))
    return 0


def _disentangle(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    import numpy as np

    from saekit.analysis import disentanglement as metrics  # the CLI may reach the analysis layer

    latents, factors = np.load(args.latents), np.load(args.factors)
    runs = {
        "mig": lambda: {"mig": metrics.mig(latents, factors)},
        "sap": lambda: {"sap": metrics.sap(latents, factors)},
        "dci": lambda: dict(
            zip(
                ("disentanglement", "completeness", "informativeness"),
                metrics.dci(latents, factors, args.dci_estimator)[:3],
                strict=True,
            )
        ),
        "modularity": lambda: metrics.modularity_explicitness(latents, factors)._asdict(),
        "infomec": lambda: dict(
            zip(
                ("infom", "infoe", "infoc"),
                metrics.infomec(latents, factors, args.discrete_latents)[:3],
                strict=True,
            )
        ),
    }
    table = {}
    for name in args.metrics:
        start = time.perf_counter()
        table[name] = runs[name]() | {"seconds": round(time.perf_counter() - start, 3)}
    text = json.dumps(table, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


def _hooks(args: argparse.Namespace) -> int:
    from saekit.models import load_model

    model = load_model(args.model, "cpu")
    names = model.resolve_hooks(args.filter) if args.filter else None
    for name in [p.name for p in names] if names else model.hook_names():
        print(name)
    return 0


def _store_import(args: argparse.Namespace) -> int:
    from saekit.store.importing import import_array

    store = import_array(args.source, args.out, hook=args.hook, key=args.key)
    print(f"{store.folder}: {len(store)} rows, d={store.d(args.hook)}")
    return 0


def _store_info(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saekit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    collect = sub.add_parser("collect", help="harvest activations into a store")
    add_dataclass_arguments(collect, CollectConfig)
    collect.add_argument("--out", required=True, help="store folder (resumed if it holds one)")
    collect.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: auto)")
    collect.set_defaults(run=_collect)

    train = sub.add_parser("train", help="train a dictionary on stored activations")
    train.add_argument("--acts", required=True, help="store folder, or an [N, d] .npy/.safetensors")
    add_dataclass_arguments(train, TrainConfig, aliases={"architecture": "--arch"})
    train.add_argument(
        "--out", required=True, help="dictionary folder (resumed if it holds a checkpoint)"
    )
    train.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")
    train.set_defaults(run=_train)

    ev = sub.add_parser("eval", help="evaluate a dictionary (writes eval.json beside it)")
    ev.add_argument("--dictionary", required=True, help="dictionary folder")
    ev.add_argument("--acts", required=True, help="activation store to evaluate on")
    ev.add_argument(
        "--model",
        default=None,
        help="model spec for loss recovered (e.g. smollm2-135m); omit to skip",
    )
    ev.add_argument("--lm-windows", type=int, default=32, help="token windows for the LM loss")
    ev.add_argument("--max-rows", type=int, default=100_000, help="rows for reconstruction stats")
    ev.add_argument(
        "--feature-stats",
        action="store_true",
        help="also save per-latent density, quantiles and top rows",
    )
    ev.add_argument("--device", default=None)
    ev.set_defaults(run=_eval)

    st = sub.add_parser("steer", help="generate with a dictionary feature forced on")
    st.add_argument("--model", default=CollectConfig.model)
    st.add_argument("--dictionary", required=True, help="folder with feature_stats.safetensors")
    st.add_argument("--feature", type=int, required=True)
    st.add_argument(
        "--strength",
        type=float,
        default=4.0,
        help="in units of the feature's largest observed activation",
    )
    st.add_argument("--prompt", required=True)
    st.add_argument("--max-new-tokens", type=int, default=30)
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--device", default=None)
    st.set_defaults(run=_steer)

    bn = sub.add_parser("bottleneck", help="run the model through a codebook; fine-tune; report")
    bn.add_argument("--model", default=CollectConfig.model)
    bn.add_argument("--dictionary", required=True, help="a codebook folder (architecture codebook)")
    bn.add_argument("--data", default=CollectConfig.data, help="corpus for fine-tuning / eval")
    bn.add_argument("--context-length", type=int, default=128)
    bn.add_argument("--windows", type=int, default=64, help="training windows")
    bn.add_argument("--eval-windows", type=int, default=16, help="held-out windows")
    bn.add_argument("--steps", type=int, default=50)
    bn.add_argument("--train-model", action="store_true", help="fine-tune the model too")
    bn.add_argument("--device", default=None)
    bn.set_defaults(run=_bottleneck)

    dis = sub.add_parser("disentangle", help="disentanglement metrics of latents vs factors")
    dis.add_argument("--latents", required=True, help="[N, L] .npy")
    dis.add_argument("--factors", required=True, help="[N, F] .npy (discrete factor values)")
    dis.add_argument(
        "--metrics",
        nargs="+",
        default=["mig", "sap", "dci", "modularity", "infomec"],
        choices=["mig", "sap", "dci", "modularity", "infomec"],
    )
    dis.add_argument(
        "--dci-estimator",
        choices=["gbt", "lasso"],
        default="gbt",
        help="gbt: the published gradient-boosted trees; lasso: fast",
    )
    dis.add_argument(
        "--discrete-latents",
        action="store_true",
        help="InfoMEC: plug-in MI for discrete latents (else kNN)",
    )
    dis.add_argument("--out", default=None, help="also write the table as JSON here")
    dis.set_defaults(run=_disentangle)

    hooks = sub.add_parser("hooks", help="list a model's hook names")
    hooks.add_argument("--model", default=CollectConfig.model)
    hooks.add_argument("filter", nargs="*", help="names or globs to expand")
    hooks.set_defaults(run=_hooks)

    store = sub.add_parser("store", help="activation-store utilities")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    imp = store_sub.add_parser("import", help="turn an [N, d] .npy/.safetensors into a store")
    imp.add_argument("source")
    imp.add_argument("--out", required=True)
    imp.add_argument("--hook", default="imported", help="name for the imported activations")
    imp.add_argument("--key", default=None, help="tensor name inside a .safetensors file")
    imp.set_defaults(run=_store_import)
    info = store_sub.add_parser("info", help="verify a store and describe it")
    info.add_argument("path")
    info.add_argument("--verify", choices=["sha256", "size", "none"], default="sha256")
    info.set_defaults(run=_store_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args)
    except (ValueError, KeyError, FileNotFoundError, ModuleNotFoundError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"saekit {args.command}: error: {message}", file=sys.stderr)
        return 2
