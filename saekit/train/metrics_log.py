"""Training metrics to a JSONL file, TensorBoard or Weights & Biases (the latter two only when
installed; asking for a missing one is an error that says what to install)."""

import json
from pathlib import Path
from typing import Protocol

from saekit.artifacts import TRAIN_METRICS


class MetricsLogger(Protocol):
    def log(self, step: int, metrics: dict[str, float]) -> None: ...

    def close(self) -> None: ...


class NoLogger:
    def log(self, step: int, metrics: dict[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


class JsonlLogger:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.file = open(folder / TRAIN_METRICS, "a")  # noqa: SIM115 (closed in close())

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.file.write(json.dumps({"step": step} | metrics) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class TensorBoardLogger:
    def __init__(self, folder: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ModuleNotFoundError(
                "log_to='tensorboard' needs: pip install tensorboard"
            ) from err
        self.writer = SummaryWriter(str(folder / "tensorboard"))

    def log(self, step: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        self.writer.close()


class WandbLogger:
    def __init__(self, folder: Path, config: dict):
        try:
            import wandb
        except ImportError as err:
            raise ModuleNotFoundError("log_to='wandb' needs: pip install wandb") from err
        self.run = wandb.init(project="saekit", name=folder.name, dir=str(folder), config=config)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.run.log(metrics, step=step)

    def close(self) -> None:
        self.run.finish()


def make_logger(kind: str, folder: Path, config: dict) -> MetricsLogger:
    if kind == "jsonl":
        return JsonlLogger(folder)
    if kind == "tensorboard":
        return TensorBoardLogger(folder)
    if kind == "wandb":
        return WandbLogger(folder, config)
    return NoLogger()
