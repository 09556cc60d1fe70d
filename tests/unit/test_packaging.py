"""The wheel holds every module and data file of the source tree (analysis/ as saekit.analysis),
and the command line works from an install of it rather than from the editable checkout."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = {"saekit": "saekit", "analysis": "saekit/analysis"}
"""Source folder -> where its files sit inside the wheel."""
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md")


def source_files() -> set[str]:
    """Every file of the package trees (modules and data), as wheel paths."""
    files = set()
    for folder, installed in SOURCE_ROOTS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.add(f"{installed}/{path.relative_to(ROOT / folder).as_posix()}")
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the tree (no stale build/ folder can leak into it)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, tree / name)
    for folder in SOURCE_ROOTS:
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps"]
    command += ["--no-build-isolation", "--no-index", "-q", "-w", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    (built,) = out.glob("saekit-*.whl")
    return built


def test_wheel_holds_every_module_and_data_file(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - inside)
    assert not missing, f"missing from the wheel: {missing}"
    assert "saekit/analysis/disentanglement/mig.py" in inside


def test_command_line_runs_from_an_install_of_the_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
    subprocess.run([*install, "--target", str(site), str(wheel)], check=True, timeout=600)
    env = os.environ | {"PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import saekit.analysis.probing as m; print(m.__file__)"],
        env=env,
        cwd=tmp_path,  # not the checkout, whose saekit/ would shadow the install
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert where.stdout.strip().startswith(str(site)), "imported the checkout, not the wheel"
    for args in ([], ["disentangle"], ["probe"], ["train"]):
        done = subprocess.run(
            [str(site / "bin" / "saekit"), *args, "--help"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "usage: saekit" in done.stdout
