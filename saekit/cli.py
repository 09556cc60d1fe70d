"""`saekit` command line: the parser, one subcommand per stage (bodies in `cli_commands.py`).
These two are the only core modules that may reach `saekit.analysis`, lazily."""

import argparse
import logging
import sys
from collections.abc import Sequence

from saekit import cli_commands as run
from saekit.cli_args import add_dataclass_arguments
from saekit.collect import CollectConfig
from saekit.sae.registry import ARCHITECTURES
from saekit.train.config import TrainConfig
from saekit.train.live import LiveConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saekit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    collect = sub.add_parser("collect", help="harvest activations into a store")
    add_dataclass_arguments(collect, CollectConfig)
    collect.add_argument("--out", required=True, help="store folder (resumed if it holds one)")
    collect.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: auto)")
    collect.set_defaults(run=run.collect)

    train = sub.add_parser(
        "train", help="train a dictionary on stored activations, or live from a model"
    )
    train.add_argument(
        "--acts",
        default=None,
        help="store folder, or an [N, d] .npy/.safetensors; omit to train live from --model",
    )
    add_dataclass_arguments(
        train,
        TrainConfig,
        aliases={"architecture": "--arch", "d_sae": "--width"},
        choices={"architecture": ARCHITECTURES},
    )
    add_dataclass_arguments(train, LiveConfig)
    train.add_argument(
        "--out", required=True, help="dictionary folder (resumed if it holds a checkpoint)"
    )
    train.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")
    train.set_defaults(run=run.train)

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
    ev.set_defaults(run=run.eval)

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
    st.set_defaults(run=run.steer)

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
    bn.set_defaults(run=run.bottleneck)

    dis = sub.add_parser("disentangle", help="disentanglement metrics of latents vs factors")
    dis.add_argument(
        "--latents", required=True, help="[N, L] .npy, or a scipy sparse .npz (dictionary codes)"
    )
    dis.add_argument("--factors", required=True, help="[N, F] .npy (discrete factor values)")
    dis.add_argument(
        "--metrics",
        nargs="+",
        default=["mig", "sap", "dci", "modularity", "infomec"],
        choices=["mig", "sap", "dci", "modularity", "infomec"],
    )
    dis.add_argument(
        "--fast",
        action="store_true",
        help="dictionary-scale estimators: correlation-ratio SAP, L1-logistic DCI, binned InfoMEC",
    )
    dis.add_argument(
        "--dci-estimator",
        choices=["gbt", "lasso"],
        default=None,
        help="gbt: the published gradient-boosted trees; lasso: fast (the default with --fast)",
    )
    dis.add_argument(
        "--discrete-latents",
        action="store_true",
        help="InfoMEC: plug-in MI for discrete latents (else kNN)",
    )
    dis.add_argument("--out", default=None, help="also write the table as JSON here")
    dis.set_defaults(run=run.disentangle)

    pr = sub.add_parser("probe", help="linear probes at every layer for concept sets")
    pr.add_argument("--model", default=CollectConfig.model)
    pr.add_argument(
        "--concepts",
        nargs="+",
        default=["capital_facts", "arithmetic", "sentiment"],
        choices=["capital_facts", "arithmetic", "sentiment"],
    )
    pr.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        help="accuracy at which a concept counts as decodable",
    )
    pr.add_argument("--out", default="probes", help="folder for probes.json and probes.png")
    pr.add_argument("--device", default=None)
    pr.set_defaults(run=run.probe)

    hooks = sub.add_parser("hooks", help="list a model's hook names")
    hooks.add_argument("--model", default=CollectConfig.model)
    hooks.add_argument("filter", nargs="*", help="names or globs to expand")
    hooks.set_defaults(run=run.hooks)

    store = sub.add_parser("store", help="activation-store utilities")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    imp = store_sub.add_parser("import", help="turn an [N, d] .npy/.safetensors into a store")
    imp.add_argument("source")
    imp.add_argument("--out", required=True)
    imp.add_argument("--hook", default="imported", help="name for the imported activations")
    imp.add_argument("--key", default=None, help="tensor name inside a .safetensors file")
    imp.set_defaults(run=run.store_import)
    info = store_sub.add_parser("info", help="verify a store and describe it")
    info.add_argument("path")
    info.add_argument("--verify", choices=["sha256", "size", "none"], default="sha256")
    info.set_defaults(run=run.store_info)
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
