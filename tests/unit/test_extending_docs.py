"""docs/extending.md stays true: its Python blocks run in order (one namespace, a temporary
`out_dir`), and its report-section partial renders inside a real report page."""

import re
from pathlib import Path

import jinja2
import pytest

from saekit.analysis.autointerp.scorers.registry import SCORERS
from saekit.analysis.circuits.methods import METHODS
from saekit.reports.build import TEMPLATES
from saekit.reports.sections import SECTIONS, report_sections
from saekit.sae import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "extending.md").read_text()
PARTIAL = TEMPLATES / "sections" / "notes.html.j2"


@pytest.fixture
def registries():
    """The examples register into the real registries: put them back afterwards."""
    saved = dict(REGISTRY), dict(SCORERS), dict(METHODS), list(report_sections())
    yield
    for registry, before in zip((REGISTRY, SCORERS, METHODS), saved, strict=False):
        registry.clear()
        registry.update(before)
    SECTIONS[:] = saved[3]
    PARTIAL.unlink(missing_ok=True)


def test_every_example_runs(tmp_path, registries):
    blocks = re.findall(r"```python\n(.*?)```", PAGE, re.S)
    assert len(blocks) == 4
    partial = re.search(r"```jinja\n(.*?)```", PAGE, re.S).group(1)
    PARTIAL.write_text(partial)
    namespace = {"out_dir": tmp_path}
    for block in blocks:
        exec(compile(block, "docs/extending.md", "exec"), namespace)
    notes = namespace["found"].items["notes"]
    page = render_section(notes)
    assert "<h3>analyses/notes.txt</h3><p>Latent 12 tracks dates.</p>" in page


def render_section(items) -> str:
    """The section's partial as the report includes it."""
    section = next(s for s in report_sections() if s.name == "notes")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    loop = '{% for item in items %}{% include "sections/" ~ section.template %}{% endfor %}'
    return env.from_string(loop).render(section=section, items=items)
