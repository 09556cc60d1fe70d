"""The layers, held by reading every import (`ast`): the core (`saekit/` but `cli/` and
`reports/`) never imports the analysis layer or the top layer; the analysis layer never imports
the top layer; the report never imports the command line; nothing imports the package root for
its version; benchmarks and recipes never import the tests."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("saekit.cli", "saekit.reports")
FORBIDDEN = {  # layer -> module prefixes it must not import
    "core": ("saekit.analysis", *TOP),
    "analysis": TOP,
    "reports": ("saekit.cli",),
    "cli": (),
    "benchmarks": ("tests",),
    "recipes": ("tests",),
}


def _layer(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    if parts[0] == "saekit" and len(parts) > 2 and parts[1] in ("cli", "reports"):
        return parts[1]
    if parts == ("saekit", "__main__.py"):
        return "cli"
    return {"saekit": "core", "analysis": "analysis"}.get(parts[0], parts[0])


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _violations() -> list[str]:
    files = [
        p for d in ("saekit", "analysis", "benchmarks", "recipes") for p in (ROOT / d).rglob("*.py")
    ]
    wrong = []
    for path in files:
        banned = FORBIDDEN[_layer(path)]
        for module, names in _imports(path):
            where = f"{path.relative_to(ROOT)} imports {module}"
            if any(module == b or module.startswith(b + ".") for b in banned):
                wrong.append(where)
            if module == "saekit" and "__version__" in names:
                wrong.append(f"{where}.__version__ (use saekit.version)")
    return wrong


def test_every_import_respects_the_layers():
    assert _violations() == []


def test_the_rule_catches_a_violation(tmp_path, monkeypatch):
    bad = ROOT / "saekit" / "_layer_probe.py"
    bad.write_text(
        "from saekit.analysis.codes import discrete_codes\nfrom saekit import __version__\n"
    )
    try:
        found = _violations()
    finally:
        bad.unlink()
    assert any("_layer_probe.py imports saekit.analysis.codes" in v for v in found)
    assert any("_layer_probe.py imports saekit.__version__" in v for v in found)
