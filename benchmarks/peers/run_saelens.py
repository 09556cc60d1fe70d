"""Benchmark worker: SAELens's own `SAETrainer` on the benchmark's rows (peers environment).

`defaults`: `TopKTrainingSAEConfig` and `SAETrainerConfig` as they come (Adam at 3e-4, constant,
AuxK coefficient 1); `matched`: the benchmark's shared learning rate, warm-up, decay, AuxK and
dead window."""

import torch
from common import Timer, load_job, ordered_rows, report
from sae_lens.config import SAETrainerConfig
from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.training.sae_trainer import SAETrainer

job = load_job()
rows = ordered_rows(job)
batch = job["batch_size"]
torch.manual_seed(job["seed"])
shape = dict(d_in=rows.shape[1], d_sae=job["width"], k=job["k"])
run = dict(total_training_samples=rows.shape[0], train_batch_size_samples=batch, device="cpu")
if job["mode"] == "defaults":
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(**shape))
    config = SAETrainerConfig(**run, lr_end=3e-5)  # LanguageModelSAERunnerConfig's lr / 10
else:
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(**shape, aux_loss_coefficient=1 / 32))
    config = SAETrainerConfig(
        **run,
        lr=job["lr"],
        lr_end=0.0,
        lr_warm_up_steps=job["warmup"],
        lr_decay_steps=rows.shape[0] // batch // 5,
        dead_feature_window=max(job["dead_window"] // batch, 1),
    )
batches = (rows[i : i + batch] for i in range(0, rows.shape[0], batch))
with Timer() as timer:
    trained = SAETrainer(config, sae, batches).fit()
trained.save_inference_model(job["out"])
report(job, timer.seconds, rows.shape[0])
