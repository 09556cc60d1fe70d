"""The probing result type: written atomically as probes.json + probes.png, read back equal;
unknown concept sets refused before any model work."""

import pytest

from saekit.analysis.probing import ProbeCurve, ProbeResults, run_probes


def test_results_round_trip(tmp_path):
    results = ProbeResults(
        [
            ProbeCurve("sentiment", [0.5, 0.7, 0.97], 2, 0.8),
            ProbeCurve("arithmetic", [0.5, 0.52, 0.55], None, 0.8),
        ]
    )
    path = results.save(tmp_path / "probes")
    assert path.name == "probes.json" and (path.parent / "probes.png").stat().st_size > 5_000
    assert ProbeResults.load(path.parent) == results
    assert sorted(p.name for p in path.parent.iterdir()) == ["probes.json", "probes.png"]
    assert results.summary_lines()[1].startswith("arithmetic     decodable from layer None")


def test_an_unknown_concept_set_is_named():
    with pytest.raises(ValueError, match=r"unknown concept sets \['colour'\]"):
        run_probes(model=None, concepts=["colour"])
