"""Marks for the tests of saekit's compiled kernels."""

import platform
import shutil
from pathlib import Path

import pytest


def avx512_here() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return platform.machine() == "x86_64" and " avx512f" in flags and " avx512bw" in flags


needs_kernel = pytest.mark.skipif(
    not (avx512_here() and shutil.which("c++")), reason="the kernels need AVX-512 and a compiler"
)
