"""Layer-wise probing of the default model on the shipped concept sets."""

import json

import pytest

from saekit.analysis.probing import CONCEPT_SETS, probe_layers
from saekit.analysis.probing.concepts import capital_facts
from saekit.cli import main

pytestmark = pytest.mark.integration


def test_capital_facts_become_decodable_in_the_middle_layers(smollm2):
    curve = probe_layers(smollm2, capital_facts())
    assert len(curve.accuracy) == 30
    assert max(curve.accuracy[:4]) < 0.6  # early layers: the truth is not yet computed
    assert curve.depth is not None and 5 <= curve.depth <= 20
    assert max(curve.accuracy) > 0.9


def test_probe_cli_writes_table_and_plot(smollm2, tmp_path):
    assert (
        main(["probe", "--concepts", "sentiment", "--out", str(tmp_path), "--device", "cpu"]) == 0
    )
    (row,) = json.loads((tmp_path / "probes.json").read_text())
    assert row["concept"] == "sentiment" and max(row["accuracy"]) > 0.95
    assert (tmp_path / "probes.png").stat().st_size > 10_000
    assert set(CONCEPT_SETS) == {"capital_facts", "arithmetic", "sentiment"}
