"""The `python -m saekit train …` arguments the subprocess tests run."""

from pathlib import Path


def train_args(acts: Path, out: Path, **flags) -> list[str]:
    """`-m saekit train` arguments; flags by Python name (batch_size -> --batch-size)."""
    args = ["-m", "saekit", "train", "--acts", str(acts), "--out", str(out)]
    for name, value in flags.items():
        args += ["--" + name.replace("_", "-"), str(value)]
    return args
