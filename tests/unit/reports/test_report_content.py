"""What a report contains: every section whose inputs exist (and a note naming the others),
embedded data that validates against its schema, contexts whose activations are the
dictionary's own, nothing fetched from a network, and a Neuronpedia-style export."""

import base64
import hashlib
import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch

from saekit.reports import DashboardConfig, ReportConfig, build_report
from saekit.reports.build import unpacked
from saekit.reports.schema import DASHBOARDS, FEATURES
from saekit.sae import DictionaryConfig, save
from saekit.sae.registry import build
from tests.unit.reports.conftest import DEAD_LATENT, HOOK, LINE_SEPARATED, SCRIPT, UNICODE


def embedded(page: str, element: str) -> dict:
    found = re.search(rf'<script type="[^"]+" id="{element}"[^>]*>(.*?)</script>', page, re.S)
    return unpacked(found.group(1)) if element == "dashboard-data" else json.loads(found.group(1))


def test_embedded_data_validates_against_the_schema(full_report):
    page = full_report.path.read_text()
    jsonschema.validate(embedded(page, "report-data"), FEATURES)
    jsonschema.validate(embedded(page, "dashboard-data"), DASHBOARDS)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "saekit.report/1", "kind": "audio"}, FEATURES)


def test_every_section_with_inputs_is_there(full_report):
    page = full_report.path.read_text()
    for section in ("summary", "features", "disentanglement", "probing", "circuits", "graphs"):
        assert f'<section id="{section}">' in page, section
    assert all(full_report.sections.values()), full_report.sections
    assert 'id="missing-sections"' not in page
    assert "every shard's sha256 matches the manifest" in page
    assert "Training curves" in page and "FVU" in page and "normalised MI heatmap" in page
    circuits = page[page.index('<section id="circuits">') :]
    assert "<td>patching</td><td>0.910</td>" in circuits
    assert "<td>response</td><td>0.770</td>" in circuits


def test_sections_without_inputs_are_left_out_with_a_note(text_run, tmp_path):
    root, _, _ = text_run
    bare = tmp_path / "sae"
    bare.mkdir()
    for name in ("cfg.json", "sae_weights.safetensors"):
        (bare / name).write_bytes((root / "sae" / name).read_bytes())
    result = build_report(
        ReportConfig(str(bare), str(root / "acts"), out=str(tmp_path / "r.html"), latents=4)
    )
    page = result.path.read_text()
    for section in ("disentanglement", "probing", "circuits", "graphs"):
        assert f'<section id="{section}">' not in page
    note = re.search(r'id="missing-sections">([^<]*)<', page).group(1)
    for missing in ("training curves", "evaluation", "feature statistics", "probing", "circuits"):
        assert missing in note


def test_contexts_carry_the_dictionarys_activations_at_every_token(full_report, text_run):
    _, store, sae = text_run
    page = full_report.path.read_text()
    data, boards = embedded(page, "report-data"), embedded(page, "dashboard-data")
    acts = sae.encode(store.activations(HOOK).float()).detach()
    tokens = store.tokens
    checked = 0
    for latent, board in list(boards.items())[:20]:
        column = acts[:, int(latent)]
        for context in board["top"]:  # the corpus repeats: the span may occur more than once
            n = len(context["t"])
            candidates = [column[s : s + n].tolist() for s in _find(tokens, context["t"])]
            assert any(context["a"] == pytest.approx(c, abs=2e-3) for c in candidates)
            checked += 1
        peaks = [max(c["a"]) for c in board["top"]]
        assert peaks == sorted(peaks, reverse=True)
        feature = next(f for f in data["features"] if f["id"] == int(latent))
        assert feature["max"] == pytest.approx(float(column.max()), rel=1e-3)
    assert checked > 20


def _find(tokens: torch.Tensor, span: list[int]) -> list[int]:
    """Every store row where the token span starts."""
    windows = tokens.unfold(0, len(span), 1)
    hits = (windows == torch.tensor(span)).all(1).nonzero().flatten().tolist()
    assert hits, "context not found in the store"
    return hits


def test_the_page_asks_no_network_for_anything(full_report):
    page = full_report.path.read_text()
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # plotly's strings
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', markup)
    assert "<link" not in page and "@import" not in page
    assert "default-src 'none'" in page  # the content security policy blocks any request


def test_hostile_text_is_escaped_in_the_html(full_report):
    page = full_report.path.read_text()
    assert SCRIPT not in page and "<img src=x" not in page
    assert "rivers \\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # in the data, inert


def test_neuronpedia_export_has_parallel_arrays_and_the_explanation(full_report, explained_latent):
    folder = full_report.path.parent / "neuronpedia"
    records = {int(p.stem): json.loads(p.read_text()) for p in folder.glob("*.json")}
    assert len(records) == full_report.latents
    for record in records.values():
        heights, values = record["freq_hist_data_bar_heights"], record["freq_hist_data_bar_values"]
        assert len(heights) == len(values)
        assert len(record["pos_str"]) == len(record["pos_values"]) > 0
        for activation in record["activations"]:
            assert len(activation["tokens"]) == len(activation["values"])
            assert activation["maxValue"] == max(activation["values"])
    explanation = records[explained_latent]["explanations"][0]
    assert explanation["description"] == f"rivers {SCRIPT} {UNICODE}"
    assert explanation["score"] == 0.8


def test_bad_inputs_get_clear_errors(text_run, tmp_path):
    root, _, _ = text_run
    with pytest.raises(FileNotFoundError, match="not a dictionary folder"):
        build_report(ReportConfig(str(tmp_path), str(root / "acts")))
    with pytest.raises(FileNotFoundError, match="analysis folder"):
        config = ReportConfig(
            str(root / "sae"),
            str(root / "acts"),
            analyses=[str(tmp_path / "nowhere")],
            out=str(tmp_path / "r.html"),
            dashboards=DashboardConfig(top=1),
        )
        build_report(config)
    assert not (tmp_path / "r.html").exists()
    assert Path(root / "sae" / "cfg.json").is_file()
    other_hook = build(
        DictionaryConfig(d_in=32, d_sae=16, k=2, hook_name="blocks.0.hook_resid_post")
    )
    save(other_hook, tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="pass a store harvested at that hook"):
        build_report(ReportConfig(str(tmp_path / "elsewhere"), str(root / "acts")))


def test_a_mailed_report_holds_no_path_of_the_machine_that_built_it(full_report, text_run):
    root, _, _ = text_run
    page = full_report.path.read_text()
    for private in {str(root), str(full_report.path.parent), str(Path.home()), "/tmp/"}:
        assert private not in page
    assert re.search(r"<th>folder</th><td>acts</td>", page)  # by name, not by full path


def test_config_and_provenance_are_tables_of_the_fields_that_apply(full_report):
    page = full_report.path.read_text()
    summary = page[page.index('<section id="summary">') : page.index('<section id="features">')]
    assert "{&#39;" not in summary and "{'" not in summary  # no dict repr
    assert "<th>saekit_version</th>" in summary and "<th>git_commit</th>" in summary
    assert "<th>k</th><td>4</td>" in summary
    assert "l1_coefficient" not in summary and "jumprelu" not in summary  # TopK ignores them


def test_a_table_without_resamples_shows_no_interval(full_report):
    page = full_report.path.read_text()
    section = page[page.index('<section id="disentanglement">') :]
    rows = re.findall(r"<tr><td>mig</td>.*?</tr>", section[: section.index("</section>")])
    assert rows and all(row.endswith("<td></td></tr>") for row in rows)  # resamples 0


def test_heatmap_ticks_are_whole_numbers():
    from saekit.reports.plots import heatmap_figure

    figure = heatmap_figure(np.random.default_rng(0).random((5, 3)), "nmi", "factor", "latent")
    for ticks in (figure.axes[0].get_xticks(), figure.axes[0].get_yticks()):
        assert len(ticks) and np.all(ticks == np.round(ticks))


def test_an_explanation_holding_a_raw_line_separator_is_shown(full_report):
    features = embedded(full_report.path.read_text(), "report-data")["features"]
    assert next(f for f in features if f["id"] == DEAD_LATENT)["explanation"] == LINE_SEPARATED


def test_the_policy_allows_only_the_reports_own_scripts(full_report):
    page = full_report.path.read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in policy
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)  # the executable ones
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
