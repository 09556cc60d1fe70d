"""The kernel paths the tests of saekit's compiled kernels run on: every path this CPU supports
(the portable one everywhere, AVX2 and AVX-512 where the CPU has them), each selected through
`SAEKIT_KERNEL_PATH`."""

import platform
import shutil
from pathlib import Path

import pytest

from saekit.sae.kernels.compiled import PATH_VARIABLE, supported_paths


def cpu_flags() -> set[str]:
    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    line = next((row for row in text.splitlines() if row.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def expected_paths() -> tuple[str, ...]:
    """The paths the CPU's flags say the kernels must offer here."""
    if platform.machine() != "x86_64" or not shutil.which("c++"):
        return ()
    flags = cpu_flags()
    paths = ["portable"]
    if {"avx2", "fma"} <= flags:
        paths.append("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "fma"} <= flags:
        paths.append("avx512")
    return tuple(paths)


PATHS_HERE = supported_paths() if expected_paths() else ()


@pytest.fixture(params=PATHS_HERE or [pytest.param(None, marks=pytest.mark.skip("no kernels"))])
def kernel_path(request, monkeypatch) -> str:
    """Runs the test once per kernel path this CPU supports, that path selected."""
    monkeypatch.setenv(PATH_VARIABLE, request.param)
    return request.param
