"""Benchmark worker: saekit's trainer on the benchmark's rows (saekit environment).

`defaults`: what `saekit train --arch topk --k K --d-sae W` runs; `matched`: the settings shared
with the peers' matched runs (Adam, one learning rate and warm-up, AuxK, dead window, no input
scaling)."""

from common import Timer, load_job, ordered_rows, report

from saekit.sae import DictionaryConfig
from saekit.sae.kernels.compiled import kernel_path_name
from saekit.train import ArraySource, TrainConfig, train

job = load_job()
rows = ordered_rows(job)
dictionary = DictionaryConfig(architecture="topk", d_sae=job["width"], k=job["k"])
shape = dict(tokens=rows.shape[0], batch_size=job["batch_size"], seed=job["seed"])
if job["mode"] == "defaults":
    config = TrainConfig(dictionary, **shape)
else:
    config = TrainConfig(
        dictionary,
        **shape,
        optimizer="adam",
        lr=job["lr"],
        warmup_steps=job["warmup"],
        dead_window=job["dead_window"],
        normalize_activations=False,
    )
with Timer() as timer:
    train(ArraySource({"x": rows}, shuffle=False), config, job["out"], progress=False)
report(job, timer.seconds, rows.shape[0], kernel_path=kernel_path_name())
