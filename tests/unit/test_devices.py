"""GPU readiness without a GPU: on the paths that run on a model's or a dictionary's device
(harvest, training, splicing, evaluation, circuits, auto-interpretation), a tensor made from
nothing (`torch.zeros`, `torch.tensor`, `torch.arange`, ...) must take its device from its
inputs (`device=`), or say on its statement why it stays on the CPU (`# cpu: why`). A tensor left
on the CPU next to CUDA inputs is the usual first failure on a GPU, and this catches it here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVICE_PATHS = (
    "saekit/steer.py",
    "saekit/splice.py",
    "saekit/collect.py",
    "saekit/collect_inputs.py",
    "saekit/hooks.py",
    "saekit/bottleneck.py",
    "saekit/distributed.py",
    "saekit/train",
    "saekit/models",
    "saekit/sae",
    "saekit/evals",
    "saekit/latents",
    "saekit/analysis/circuits",
    "saekit/analysis/autointerp",
    "saekit/analysis/probing",
    "saekit/analysis/graphs",
)
FACTORIES = {
    "tensor", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
    "rand", "randn", "randint", "randperm", "normal",
}  # fmt: skip


def _files() -> list[Path]:
    files = []
    for entry in DEVICE_PATHS:
        path = ROOT / entry
        if not path.exists():  # the analysis layer lives in analysis/, imported as saekit.analysis
            path = ROOT / entry.removeprefix("saekit/")
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _deviceless_factories(source: str) -> list[int]:
    """Line numbers of factory calls without `device=` whose statement has no `# cpu:` note."""
    lines = source.splitlines()
    found = []
    for statement in ast.walk(ast.parse(source)):
        if not isinstance(statement, ast.stmt) or hasattr(statement, "body"):
            continue  # simple statements only: a def's or a loop's body is checked line by line
        span = lines[statement.lineno - 1 : statement.end_lineno]
        if any("# cpu:" in line for line in span):
            continue
        for node in ast.walk(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
                and node.func.attr in FACTORIES
                and "device" not in {k.arg for k in node.keywords}
            ):
                found.append(node.lineno)
    return found


def test_tensors_on_device_paths_take_their_device_from_their_inputs():
    files = _files()
    assert len(files) > 60  # the scope resolved (a moved folder would make this test vacuous)
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in files
        for line in _deviceless_factories(path.read_text())
    ]
    assert not offenders, (
        "tensors made without device= on a device path (pass device=, or add `# cpu: why` to "
        f"the statement): {offenders}"
    )


def test_the_check_catches_a_deviceless_tensor_and_accepts_a_note():
    bad = "def f(x):\n    mask = torch.zeros(3)\n    return x[mask]\n"
    good = "def f(x):\n    mask = torch.zeros(3, device=x.device)\n    return x[mask]\n"
    noted = "def f(x):\n    mask = torch.zeros(\n        3\n    )  # cpu: indexes CPU rows\n"
    assert _deviceless_factories(bad) == [2]
    assert _deviceless_factories(good) == _deviceless_factories(noted) == []
