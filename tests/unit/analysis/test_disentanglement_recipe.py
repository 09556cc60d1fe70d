"""The disentanglement recipe end to end, tiny: every model scored on every metric."""

import json
import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).parents[3] / "recipes" / "disentanglement.py"


def test_tiny_recipe_reports_every_metric_for_every_model(tmp_path):
    run = subprocess.run(
        [sys.executable, str(RECIPE), "--tiny", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in rows] == ["ae", "beta_vae", "qlae"]
    for row in rows:
        for metric in ("mig", "sap", "dci_d", "modularity", "infom", "betavae", "factorvae"):
            assert 0.0 <= row[metric] <= 1.0
        assert row["reconstruction_bce"] < 0.7  # better than a coin per pixel
    assert "passive" in rows[1] and 0 <= rows[1]["correlation_mean"] <= 1
    table = (tmp_path / "table.md").read_text().splitlines()
    assert table[0].startswith("| model | reconstruction_bce") and len(table) == 5
