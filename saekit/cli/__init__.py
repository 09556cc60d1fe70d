"""The `saekit` command: one subcommand per stage, each with its flags from a config dataclass
(`cli_args.add_dataclass_arguments`) and its body in `cli_commands.py`. Only the chosen
subcommand's configs and registries are imported, so `saekit --help` is quick. The cli*
modules are the only core modules that may reach `saekit.analysis` and `saekit.reports`,
lazily."""

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from saekit.cli import commands as run
from saekit.cli.args import add_dataclass_arguments
from saekit.defaults import DEFAULT_MODEL
from saekit.errors import SaekitError

EXPECTED_ERRORS = (SaekitError, ValueError, KeyError, IndexError, OSError, ModuleNotFoundError)
"""Failures of input, files, models or servers: printed as one line (the traceback with -v)."""

DESCRIPTION = """\
saekit: sparse-dictionary interpretability, offline-first.

Harvest activations from language and vision models into a crash-safe store, train sparse and
codebook dictionaries on them (or live from the model), evaluate them with the dictionary
spliced into the model, and analyse what their features mean. Every stage writes a folder the
next stage reads; every long stage resumes where it stopped."""


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    examples: tuple[str, ...]
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int] | None
    """None where nested subcommands set their own."""


def _collect(parser: argparse.ArgumentParser) -> None:
    from saekit.collect import CollectConfig

    add_dataclass_arguments(parser, CollectConfig)
    parser.add_argument("--out", required=True, help="store folder (resumed if it holds one)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: auto)")


def _train(parser: argparse.ArgumentParser) -> None:
    from saekit.sae.registry import REGISTRY
    from saekit.train.config import TrainConfig
    from saekit.train.live import LiveConfig

    parser.add_argument(
        "--acts",
        default=None,
        help="store folder, or an [N, d] .npy/.safetensors; omit to train live from --model",
    )
    add_dataclass_arguments(
        parser,
        TrainConfig,
        aliases={"architecture": "--arch", "d_sae": "--width"},
        choices={"architecture": REGISTRY},
    )
    add_dataclass_arguments(parser, LiveConfig)
    parser.add_argument(
        "--per-hook",
        action="store_true",
        help="one dictionary for every hook of the data (the store's, or live --hooks), each in "
        "OUT/<hook>, all trained on one pass",
    )
    parser.add_argument(
        "--distribute-dictionaries",
        action="store_true",
        help="under torchrun: each dictionary trained by one rank (balanced by parameter count) "
        "on the full global batches, instead of every rank holding every dictionary",
    )
    parser.add_argument("--out", required=True, help="dictionary folder (resumed if it holds one)")
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")


def _config(cls_name: str, choices: Callable[[], dict] | None = None):
    """Flags from one of `saekit.cli.configs`' dataclasses (choices from registries)."""

    def add(parser: argparse.ArgumentParser) -> None:
        from saekit.cli import configs as cli_configs

        cls = getattr(cli_configs, cls_name)
        add_dataclass_arguments(parser, cls, choices=choices() if choices else None)

    return add


def _disentangle(parser: argparse.ArgumentParser) -> None:
    from saekit.analysis.disentanglement.settings import MetricOptions, Uncertainty
    from saekit.analysis.disentanglement.table import METRIC_BUILDERS
    from saekit.cli.configs import DisentangleArgs

    add_dataclass_arguments(parser, DisentangleArgs, choices={"metrics": METRIC_BUILDERS})
    add_dataclass_arguments(parser, MetricOptions)
    add_dataclass_arguments(parser, Uncertainty)


def _concept_names() -> dict:
    from saekit.analysis.probing.concepts import CONCEPT_SETS

    return {"concepts": list(CONCEPT_SETS)}


def _report(parser: argparse.ArgumentParser) -> None:
    from saekit.reports import ReportConfig

    add_dataclass_arguments(parser, ReportConfig)


def _circuits(parser: argparse.ArgumentParser) -> None:
    from saekit.analysis.circuits.methods import METHODS
    from saekit.analysis.circuits.run import CircuitsConfig
    from saekit.analysis.circuits.tasks import TASKS

    add_dataclass_arguments(parser, CircuitsConfig, choices={"task": TASKS, "methods": METHODS})
    parser.add_argument("--model", default=DEFAULT_MODEL, help="language model spec")
    parser.add_argument("--out", required=True, help="folder for circuits.json and the plots")
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")


def _interpret(parser: argparse.ArgumentParser) -> None:
    from saekit.analysis.autointerp.explainers import EXPLAINERS
    from saekit.analysis.autointerp.pipeline import InterpretConfig
    from saekit.analysis.autointerp.scorers.registry import SCORERS

    choices = {"scorers": SCORERS, "explainer": EXPLAINERS}
    add_dataclass_arguments(parser, InterpretConfig, choices=choices)
    parser.add_argument("--acts", required=True, help="activation store the latents are read on")
    parser.add_argument("--dictionary", help="dictionary folder (omit with --neurons)")
    parser.add_argument(
        "--neurons", metavar="HOOK", help="interpret the raw neurons of this store hook instead"
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="language model the store was harvested from: its tokenizer shows the examples, it"
        " scores surprisal and intervention, and with --client local it also explains (llm) and"
        " judges (detection, fuzzing)",
    )
    parser.add_argument("--out", required=True, help="folder for results.jsonl")
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")


def _transcoders(parser: argparse.ArgumentParser) -> None:
    from saekit.analysis.graphs.transcoders import TranscoderSetConfig

    add_dataclass_arguments(parser, TranscoderSetConfig)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="language model spec")
    parser.add_argument("--data", default=None, help="training corpus (default: wiki-offline)")
    parser.add_argument(
        "--eval-windows",
        type=int,
        default=16,
        help="128-token windows of held-back corpus text to evaluate the set on (0: skip)",
    )
    parser.add_argument("--out", required=True, help="transcoder set folder (resumed)")
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")


def _graph(parser: argparse.ArgumentParser) -> None:
    from saekit.analysis.graphs.run import GraphConfig

    add_dataclass_arguments(parser, GraphConfig)
    parser.add_argument("--transcoders", required=True, help="transcoder set folder")
    parser.add_argument("--model", default=None, help="language model (default: the set's)")
    parser.add_argument("--out", required=True, help="folder for the graph and its files")
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: auto)")


def _store(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="store_command", required=True)
    imported = sub.add_parser("import", help="turn an [N, d] .npy/.safetensors into a store")
    _config("StoreImportArgs")(imported)
    imported.set_defaults(run=run.store_import)
    info = sub.add_parser("info", help="verify a store and describe it")
    _config("StoreInfoArgs")(info)
    info.set_defaults(run=run.store_info)


SUBCOMMANDS = (
    Subcommand(
        "collect",
        "harvest activations into a store",
        ("saekit collect --hooks blocks.6.hook_resid_post --tokens 50000 --out acts",),
        _collect,
        run.collect,
    ),
    Subcommand(
        "train",
        "train a dictionary on stored activations, or live from a model",
        (
            "saekit train --acts acts --arch topk --d-sae 4096 --k 32 --out sae",
            "saekit train --model smollm2-135m --hooks blocks.6.hook_resid_post --out sae",
        ),
        _train,
        run.train,
    ),
    Subcommand(
        "eval",
        "evaluate a dictionary (writes eval.json beside it)",
        ("saekit eval --dictionary sae --acts acts --model smollm2-135m --feature-stats",),
        _config("EvalArgs"),
        run.eval,
    ),
    Subcommand(
        "steer",
        "generate with a dictionary feature forced on",
        ('saekit steer --dictionary sae --feature 12 --prompt "The weather today"',),
        _config("SteerArgs"),
        run.steer,
    ),
    Subcommand(
        "bottleneck",
        "run the model through a codebook; fine-tune; report",
        ("saekit bottleneck --dictionary codebook --steps 50",),
        _config("BottleneckArgs"),
        run.bottleneck,
    ),
    Subcommand(
        "disentangle",
        "disentanglement metrics of latents vs factors",
        ("saekit disentangle --latents codes.npz --factors factors.npy --fast",),
        _disentangle,
        run.disentangle,
    ),
    Subcommand(
        "probe",
        "linear probes at every layer for concept sets",
        ("saekit probe --concepts sentiment --out probes",),
        _config("ProbeArgs", _concept_names),
        run.probe,
    ),
    Subcommand(
        "circuits",
        "find a task's circuit by patching, attribution and discrete SAE codes",
        ("saekit circuits --task ioi --methods patching atp discrete-sae --out circuits/ioi",),
        _circuits,
        run.circuits,
    ),
    Subcommand(
        "transcoders",
        "train a transcoder for every MLP of a model in one pass, and evaluate the set",
        ("saekit transcoders --model smollm2-135m --d-sae 2048 --k 16 --out transcoders",),
        _transcoders,
        run.transcoders,
    ),
    Subcommand(
        "graph",
        "attribution graph of a prompt through a transcoder set: attribute, prune, validate",
        ('saekit graph --transcoders transcoders --prompt "The capital of France is" --out g',),
        _graph,
        run.graph,
    ),
    Subcommand(
        "interpret",
        "explain every latent and score the explanations (auto-interp)",
        (
            "saekit interpret --dictionary sae --acts acts --latents random:50 --out interp",
            "saekit interpret --dictionary sae --acts acts --explainer llm --client openai "
            "--base-url http://localhost:8000/v1 --client-model qwen --out interp",
        ),
        _interpret,
        run.interpret,
    ),
    Subcommand(
        "report",
        "write a self-contained HTML report of a run (summary, feature browser, analyses)",
        (
            "saekit report --dictionary sae --acts acts --out report.html",
            "saekit report --dictionary sae --acts acts --analyses circuits interp "
            "--neuronpedia features/ --out report.html",
        ),
        _report,
        run.report,
    ),
    Subcommand(
        "hooks",
        "list a model's hook names",
        ('saekit hooks "blocks.*.hook_resid_post"',),
        _config("HooksArgs"),
        run.hooks,
    ),
    Subcommand(
        "store",
        "activation-store utilities (import, info)",
        ("saekit store import x.npy --out acts", "saekit store info acts"),
        _store,
        None,
    ),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command`, only that subcommand's flags are built (and only its
    configs imported); with `""`, no subcommand's flags (enough for the top-level help)."""
    examples = "\n".join(f"  {line}" for s in SUBCOMMANDS for line in s.examples)
    parser = argparse.ArgumentParser(
        prog="saekit",
        description=DESCRIPTION,
        epilog=f"examples:\n{examples}\n\n`saekit COMMAND --help` lists a command's flags.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for spec in SUBCOMMANDS:
        child = sub.add_parser(spec.name, help=spec.help, description=f"{spec.help}.")
        child.epilog = "examples:\n" + "\n".join(f"  {line}" for line in spec.examples)
        child.formatter_class = argparse.RawDescriptionHelpFormatter
        if command is None or command == spec.name:
            spec.add_arguments(child)
        if spec.run is not None:
            child.set_defaults(run=spec.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = {s.name for s in SUBCOMMANDS}
    chosen = next((a for a in argv if not a.startswith("-")), "")
    args = build_parser(chosen if chosen in names else "").parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args)
    except EXPECTED_ERRORS as err:
        if args.verbose:
            traceback.print_exc()
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"saekit {args.command}: error: {message}", file=sys.stderr)
        return 2
