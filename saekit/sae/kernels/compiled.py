"""saekit's compiled CPU kernels (the `*.cpp` files beside this one: the row top-k and fused
AuxK), built on first use with the system C++ compiler into one library in saekit's cache
(`$SAEKIT_CACHE/kernels`, named by a hash of the sources and flags) and loaded with ctypes.

`kernel_library()` is None wherever they cannot run: no compiler, not x86-64, a CPU without
AVX-512, or `SAEKIT_COMPILED_KERNELS=0`; every caller then takes its PyTorch path, which is also
the reference the tests hold each kernel to."""

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from ctypes import c_double, c_float, c_int, c_int64, c_void_p
from functools import cache
from pathlib import Path

from saekit.defaults import cache_root

log = logging.getLogger(__name__)

SOURCES = tuple(Path(__file__).with_name(name) for name in ("row_topk.cpp", "auxk_fused.cpp"))
COMPILE_FLAGS = ("-O3", "-shared", "-fPIC", "-std=c++17")
ENABLE_VARIABLE = "SAEKIT_COMPILED_KERNELS"
SIGNATURES = {
    "saekit_has_avx512": (c_int, []),
    "saekit_topk_rows": (
        c_int,
        [c_void_p, c_int, c_int64, c_int64, c_int64, c_int, c_int, c_void_p],
    ),
    "saekit_auxk_forward": (
        c_double,
        [c_void_p, c_void_p, c_int64, c_int64, c_void_p, c_void_p, c_int64, c_void_p],
    ),
    "saekit_auxk_backward": (
        None,
        [c_void_p, c_void_p, c_int64, c_int64, c_void_p, c_void_p, c_int64, c_void_p, c_int64]
        + [c_float, c_void_p, c_void_p, c_void_p],
    ),
}
"""Each exported function's return type and argument types."""


@cache
def kernel_library() -> ctypes.CDLL | None:
    """The compiled kernels, built once per source and machine; None where they cannot run."""
    if os.environ.get(ENABLE_VARIABLE, "1") == "0" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        library = ctypes.CDLL(str(_built_library()))
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("compiled kernels unavailable, using PyTorch's operations: %s", error)
        return None
    for name, (returns, arguments) in SIGNATURES.items():
        function = getattr(library, name)
        function.restype, function.argtypes = returns, arguments
    return library if library.saekit_has_avx512() else None


def _built_library() -> Path:
    """The shared library for these sources and flags, compiled if not cached yet (to a
    temporary name, then renamed: concurrent processes never load a half-written file)."""
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        raise OSError("no C++ compiler found (set CXX)")
    digest = hashlib.sha256(" ".join(COMPILE_FLAGS).encode())
    for source in SOURCES:
        digest.update(source.read_bytes())
    target = cache_root() / "kernels" / f"saekit-{digest.hexdigest()[:16]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as building:
        built = Path(building) / target.name
        command = [compiler, *COMPILE_FLAGS, *map(str, SOURCES), "-o", str(built)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise OSError(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
        os.replace(built, target)
    return target
