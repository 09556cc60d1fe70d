"""A folder built once per machine and shared by every process (the fp32 copy of an offline
model): built under an exclusive lock in a `.partial-PID` folder, then renamed into place, so
concurrent processes build it once, the others wait and use that copy, and no half-built
folder is ever used. The lock dies with its holder, so a build killed mid-way (even by kill -9)
leaves only a partial folder, removed by the next build."""

import fcntl
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def _partials(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f"{target.name}.partial-*"))


def build_once(target: Path, build: Callable[[Path], None], marker: str = "config.json") -> Path:
    """`target`, built by `build(folder)` unless a finished copy (one holding `marker`) exists."""
    if (target / marker).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when this process ends, however it ends
        if (target / marker).exists():  # another process built it while this one waited
            return target
        for stale in _partials(target):  # left by a build that was killed
            log.info("removing %s, left by an interrupted build", stale)
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():  # a folder without the marker: not a finished copy
            shutil.rmtree(target)
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        try:
            build(partial)
            os.replace(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target
