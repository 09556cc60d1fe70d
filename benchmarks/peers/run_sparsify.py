"""Benchmark worker: sparsify's own `Trainer` on the benchmark's rows (peers environment).

`defaults`: `TrainConfig` as it comes (signum, its width-scaled learning rate, no AuxK);
`matched`: Adam at the benchmark's shared learning rate and warm-up, AuxK and dead window.

sparsify trains only from a Hugging Face model and a token dataset, so the activation matrix
becomes the frozen embedding of a model whose only module is that embedding (the hook point, an
identity on the rows), and the "tokens" are row indices in the benchmark's order."""

import shutil
from pathlib import Path

import numpy as np
import torch
from common import Timer, load_job, report
from datasets import Dataset
from sparsify import SparseCoderConfig, TrainConfig, Trainer
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

SEQ = 16  # row indices per "sequence"; batch_size / SEQ sequences per batch


class RowsConfig(PretrainedConfig):
    model_type = "rows"

    def __init__(self, n_rows: int = 1, d: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.n_rows, self.hidden_size, self.num_hidden_layers = n_rows, d, 1


class RowsModel(PreTrainedModel):
    config_class = RowsConfig

    def __init__(self, config: RowsConfig, rows: torch.Tensor | None = None):
        super().__init__(config)
        self.embed = nn.Embedding(config.n_rows, config.hidden_size)
        if rows is not None:
            self.embed.weight.data.copy_(rows)

    def forward(self, input_ids, **kwargs):
        return self.embed(input_ids)


job = load_job()
x = torch.from_numpy(np.load(job["train"]))
order = np.load(job["order"])
model = RowsModel(RowsConfig(n_rows=x.shape[0], d=x.shape[1]), x).eval()
dataset = Dataset.from_dict({"input_ids": order.reshape(-1, SEQ).tolist()}).with_format("torch")
save_dir = Path(job["out"]).parent / "sparsify_run"
shape = SparseCoderConfig(k=job["k"], num_latents=job["width"])
run = dict(
    batch_size=job["batch_size"] // SEQ,
    init_seeds=[job["seed"]],
    hookpoints=["embed"],
    save_dir=str(save_dir),
    run_name="bench",
    save_every=10**9,
    log_to_wandb=False,
)
if job["mode"] == "defaults":
    config = TrainConfig(shape, **run)
else:
    config = TrainConfig(
        shape,
        **run,
        optimizer="adam",
        lr=job["lr"],
        lr_warmup_steps=job["warmup"],
        auxk_alpha=1 / 32,
        dead_feature_threshold=job["dead_window"],
    )
with Timer() as timer:
    Trainer(config, dataset, model).fit()
shutil.copytree(save_dir / "bench" / "embed", job["out"], dirs_exist_ok=True)
report(job, timer.seconds, len(order))
