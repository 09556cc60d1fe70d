"""Shared by the benchmark's workers (each runs in its own environment): read the data in the
benchmark's order, time the trainer, report peak memory."""

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch._dynamo  # noqa: F401  every torch optimizer imports it on first use: not training time


def load_job() -> dict:
    """The job file named on the command line: data paths and the shared hyper-parameters."""
    return json.loads(Path(sys.argv[1]).read_text())


def ordered_rows(job: dict) -> torch.Tensor:
    """Training rows in exactly the order every trainer must see them."""
    x = np.load(job["train"], mmap_mode="r")
    order = np.load(job["order"])
    return torch.from_numpy(np.ascontiguousarray(x[order]))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(job: dict, seconds: float, vectors: int, **extra) -> None:
    peak_mb = peak_rss_mb()
    result = {
        "seconds": seconds,
        "vectors": vectors,
        "peak_rss_mb": peak_mb,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    } | extra
    Path(job["result"]).write_text(json.dumps(result))


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
