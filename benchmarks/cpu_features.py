"""What a benchmark ran on: the CPU's vector extensions, and the environment that limits the
instruction sets PyTorch, oneDNN, MKL and saekit's kernels use (`--isa avx2` runs an AVX-512 CPU
as an AVX2-only one, to measure the AVX2 paths where no such CPU is at hand)."""

import os
import platform
from pathlib import Path

FEATURES = ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "amx_bf16")
ISA_LIMITS = {
    "native": {},
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "SAEKIT_KERNEL_PATH": "avx2",
    },
}
"""Environment that holds every library to one instruction set (set before they load)."""


def cpu_features() -> list[str]:
    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    line = next((row for row in text.splitlines() if row.startswith("flags")), "")
    flags = set(line.split(":", 1)[-1].split())
    return [name for name in FEATURES if name in flags]


def cpu_line(isa: str = "native") -> str:
    """One line: the CPU model, its vector extensions, and the instruction-set limit in force."""
    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    model = next(
        (row.split(":", 1)[1].strip() for row in text.splitlines() if "model name" in row),
        platform.processor(),
    )
    limited = ", ".join(f"{k}={v}" for k, v in ISA_LIMITS[isa].items())
    line = f"CPU: {model}; features: {' '.join(cpu_features()) or 'none found'}"
    return line + (f"; run as {isa} ({limited})" if limited else "")


def limit_isa(isa: str) -> None:
    """Set the environment that holds this process's children to `isa`."""
    os.environ.update(ISA_LIMITS[isa])
