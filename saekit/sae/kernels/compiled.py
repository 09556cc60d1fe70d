"""saekit's compiled CPU kernels (the `*.cpp` files beside this one: the row top-k and fused
AuxK), built on first use with the system C++ compiler into one library in saekit's cache
(`$SAEKIT_CACHE/kernels`, named by a hash of the sources and flags) and loaded with ctypes.

Each kernel has three paths in the library: `avx512` (intrinsics), `avx2` (AVX2 + FMA) and
`portable` (the base x86-64 instruction set, vectorised by the compiler); `kernel_path()` picks
the fastest the CPU supports, or the one `SAEKIT_KERNEL_PATH` names (the tests run every path
the CPU supports this way). `kernel_library()` is None wherever they cannot run: no compiler,
not x86-64, or `SAEKIT_COMPILED_KERNELS=0`; every caller then takes its PyTorch path, which is
also the reference the tests hold each kernel to."""

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

FOLDER = Path(__file__).parent
SOURCES = tuple(sorted(FOLDER.glob("*.cpp")))
INCLUDED = tuple(sorted([*FOLDER.glob("*.h"), *FOLDER.glob("*.inc")]))
"""Files the sources include: part of the library's hash, not compiled on their own."""
COMPILE_FLAGS = ("-O3", "-shared", "-fPIC", "-std=c++17", "-fopenmp-simd")
ENABLE_VARIABLE = "SAEKIT_COMPILED_KERNELS"
PATH_VARIABLE = "SAEKIT_KERNEL_PATH"
PATHS = ("portable", "avx2", "avx512")
"""The kernels' paths, slowest first; a path's number is its index here."""
SIGNATURES = {
    "saekit_path_supported": (c_int, [c_int]),
    "saekit_topk_rows": (
        c_int,
        [c_int, c_void_p, c_int, c_int64, c_int64, c_int64, c_int, c_int, c_void_p],
    ),
    "saekit_auxk_forward": (
        c_double,
        [c_int, c_void_p, c_void_p, c_int64, c_int64, c_void_p, c_void_p, c_int64, c_void_p],
    ),
    "saekit_auxk_backward": (
        None,
        [c_int, c_void_p, c_void_p, c_int64, c_int64, c_void_p, c_void_p, c_int64, c_void_p]
        + [c_int64, c_float, c_void_p, c_void_p, c_void_p],
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
    return library


def supported_paths() -> tuple[str, ...]:
    """The kernel paths this CPU runs, slowest first (empty without the library)."""
    library = kernel_library()
    return () if library is None else _paths_of(library)


@cache
def _paths_of(library: ctypes.CDLL) -> tuple[str, ...]:
    return tuple(name for number, name in enumerate(PATHS) if library.saekit_path_supported(number))


def kernel_path() -> int | None:
    """The number of the path the kernels run (`PATHS`): the one `SAEKIT_KERNEL_PATH` names,
    else the fastest this CPU supports; None without the library."""
    supported = supported_paths()
    if not supported:
        return None
    wanted = os.environ.get(PATH_VARIABLE) or supported[-1]
    if wanted not in supported:
        raise ValueError(
            f"{PATH_VARIABLE}={wanted}: this CPU runs the kernel paths {', '.join(supported)}"
        )
    return PATHS.index(wanted)


def kernel_path_name() -> str:
    """The path the kernels run, by name (`pytorch` where they cannot: the fallback)."""
    number = kernel_path()
    return "pytorch" if number is None else PATHS[number]


def _built_library() -> Path:
    """The shared library for these sources and flags, compiled if not cached yet (to a
    temporary name, then renamed: concurrent processes never load a half-written file)."""
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        raise OSError("no C++ compiler found (set CXX)")
    digest = hashlib.sha256(" ".join(COMPILE_FLAGS).encode())
    for source in (*SOURCES, *INCLUDED):
        digest.update(source.name.encode() + source.read_bytes())
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
