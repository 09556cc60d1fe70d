"""Benchmark worker: saekit's trainer on the benchmark's rows (saekit environment)."""

from common import Timer, load_job, ordered_rows, report

from saekit.sae import DictionaryConfig
from saekit.train import ArraySource, TrainConfig, train

job = load_job()
rows = ordered_rows(job)
config = TrainConfig(
    DictionaryConfig(architecture="topk", d_sae=job["width"], k=job["k"]),
    tokens=rows.shape[0],
    batch_size=job["batch_size"],
    optimizer=job.get("optimizer", "adam"),  # matched settings: every trainer on Adam
    lr=job["lr"],
    warmup_steps=job["warmup"],
    dead_window=job["dead_window"],
    normalize_activations=False,
)
with Timer() as timer:
    train(ArraySource({"x": rows}, shuffle=False), config, job["out"], progress=False)
report(job, timer.seconds, rows.shape[0])
