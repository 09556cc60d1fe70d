"""The parser: user-facing help, every config field reachable as a flag, choice lists from
the registries, nested configs rebuilt from the flags."""

import dataclasses

import pytest

from saekit.analysis.disentanglement.table import METRICS
from saekit.analysis.probing.concepts import CONCEPT_SETS
from saekit.cli import SUBCOMMANDS, build_parser, main
from saekit.cli.args import dataclass_from_args
from saekit.sae import ARCHITECTURES, DictionaryConfig
from saekit.train import TrainConfig
from saekit.train.live import LiveConfig


def flags_of(command: str) -> dict:
    parser = build_parser(command)
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return {a.dest: a for a in sub.choices[command]._actions}


def test_top_level_help_is_for_users_with_an_example_per_subcommand():
    text = build_parser("").format_help()
    assert "bodies in" not in text and "sparse-dictionary interpretability" in text
    for spec in SUBCOMMANDS:
        assert spec.name in text and f"saekit {spec.name}" in text


@pytest.mark.parametrize("command", [s.name for s in SUBCOMMANDS])
def test_every_subcommand_builds_its_flags(command):
    assert flags_of(command)


def test_every_training_setting_is_a_flag():
    flags = flags_of("train")
    settable = [f.name for f in dataclasses.fields(DictionaryConfig) if f.metadata.get("cli", True)]
    settable += [f.name for f in dataclasses.fields(TrainConfig) if f.name != "dictionary"]
    settable += [f.name for f in dataclasses.fields(LiveConfig)]
    assert not [name for name in settable if name not in flags]
    for name in ("jumprelu_bandwidth", "jumprelu_init_threshold", "threshold_momentum"):
        assert name in flags
    assert "d_in" not in flags and "model_name" not in flags  # read from the data


def test_choice_lists_come_from_the_registries():
    assert list(flags_of("train")["architecture"].choices) == list(ARCHITECTURES)
    assert list(flags_of("disentangle")["metrics"].choices) == list(METRICS)
    assert list(flags_of("probe")["concepts"].choices) == list(CONCEPT_SETS)


def test_nested_training_config_is_rebuilt_from_flags():
    argv = ["train", "--acts", "x.npy", "--out", "o", "--arch", "matryoshka_batchtopk"]
    argv += ["--width", "64", "--k", "4", "--matryoshka-widths", "8", "16"]
    argv += ["--threshold-momentum", "0.9", "--hook-name", "h", "--lr", "0.001"]
    config = dataclass_from_args(TrainConfig, build_parser("train").parse_args(argv))
    assert config.dictionary == DictionaryConfig(
        architecture="matryoshka_batchtopk",
        d_sae=64,
        k=4,
        matryoshka_widths=[8, 16],
        threshold_momentum=0.9,
        hook_name="h",
    )
    assert config.lr == 0.001 and config.tokens == TrainConfig().tokens


def test_a_flag_the_architecture_ignores_is_an_error(tmp_path, capsys):
    argv = ["train", "--acts", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o")]
    assert main(argv + ["--arch", "topk", "--l1-coefficient", "3"]) == 2
    err = capsys.readouterr().err
    assert "--l1-coefficient set, but a topk dictionary does not read it" in err
    assert err.count("\n") == 1


def test_required_and_positional_fields(capsys):
    parser = build_parser("store")
    assert parser.parse_args(["store", "info", "acts"]).path == "acts"
    with pytest.raises(SystemExit):
        build_parser("eval").parse_args(["eval", "--acts", "a"])  # --dictionary is required
    assert "--dictionary" in capsys.readouterr().err
