"""Every disentanglement metric for one trained reference autoencoder, as one table row."""

import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from saekit.analysis.activity import vae_activity
from saekit.analysis.disentanglement import (
    MetricOptions,
    Uncertainty,
    betavae_score,
    estimate_over_seeds,
    factorvae_score,
)
from saekit.analysis.disentanglement.table import flat_scores, infomec_variants, metric_table
from saekit.analysis.factor_data.dsprites import DSprites
from saekit.analysis.reference_models.autoencoders import QLAE, BetaVAE, ReferenceAutoencoder

CHUNK = 2048


@dataclass
class ScoringConfig:
    eval_samples: int = 5000
    """Held-out images for reconstruction and the latents-vs-factors metrics."""
    score_points: int = 2000
    """Training points of the BetaVAE / FactorVAE classifiers (evaluation uses half)."""
    dci_estimator: str = "gbt"
    seed: int = 1234
    """Seed of the held-out images (different from every training seed)."""
    uncertainty: Uncertainty = field(default_factory=lambda: Uncertainty(resamples=10, seeds=0))
    """Intervals: half-samples of the held-out images; BetaVAE/FactorVAE rerun on fresh points."""


class ScoredRow(NamedTuple):
    scores: dict[str, float]
    """Every metric's value (and reconstruction, passive count, timing)."""
    intervals: dict[str, tuple[float, float]]
    """Each metric's (low, high) interval."""


@torch.no_grad()
def _represent(model: ReferenceAutoencoder, images: np.ndarray, codes: bool = False) -> np.ndarray:
    fn = model.codes if codes and isinstance(model, QLAE) else model.represent
    parts = [fn(torch.from_numpy(images[i : i + CHUNK])) for i in range(0, len(images), CHUNK)]
    return torch.cat(parts).numpy()


@torch.no_grad()
def _reconstruction(model: ReferenceAutoencoder, images: np.ndarray) -> float:
    x = torch.from_numpy(images)
    z = model.represent(x)
    return float(model.bce(model.decoder(z), x))


def score_reference(model: ReferenceAutoencoder, data: DSprites, cfg: ScoringConfig) -> ScoredRow:
    """Reconstruction (held-out per-pixel BCE), MIG, SAP, DCI, modularity/explicitness, InfoMEC
    (on the discrete codes for a QLAE) and its variants, BetaVAE and FactorVAE scores, each with
    its interval, and for a VAE the number of passive variables and the mean |correlation| of
    its mean and sampled representations with and without them; `seconds` is the scoring time."""
    start = time.perf_counter()
    model.eval()
    batch = data.sample(cfg.eval_samples, np.random.default_rng(cfg.seed))
    z, v = _represent(model, batch.images), batch.factors
    row = {"reconstruction_bce": _reconstruction(model, batch.images[:CHUNK])}
    options = MetricOptions(dci_estimator=cfg.dci_estimator)
    metrics = ("mig", "sap", "dci", "modularity")
    estimates = flat_scores(metric_table(z, v, metrics, options, cfg.uncertainty))
    # InfoMEC reads a QLAE's discrete codes with the plug-in estimator, as its authors do
    is_qlae = isinstance(model, QLAE)
    codes = _represent(model, batch.images, codes=True) if is_qlae else z
    options = MetricOptions(discrete_latents=is_qlae)
    estimates |= flat_scores(metric_table(codes, v, ("infomec",), options, cfg.uncertainty))
    sizes = {"num_train": cfg.score_points, "num_eval": cfg.score_points // 2}
    represent = partial(_represent, model)
    over_seeds = partial(estimate_over_seeds, cfg=replace(cfg.uncertainty, seed=cfg.seed))
    estimates["betavae"] = over_seeds(
        lambda seed: betavae_score(data, represent, seed, **sizes).eval_accuracy
    )
    estimates["factorvae"] = over_seeds(
        lambda seed: (
            factorvae_score(
                data, represent, seed, num_variance_estimate=cfg.eval_samples, **sizes
            ).eval_accuracy
        )
    )
    row |= {k: e.value for k, e in estimates.items()}
    row |= infomec_variants(codes, v, options)
    if isinstance(model, BetaVAE):
        mean, logvar = model.posterior(torch.from_numpy(batch.images[:CHUNK]))
        activity = vae_activity(mean, logvar)
        row["passive"] = int(activity.passive.sum())
        row |= {f"correlation_{k}": v for k, v in activity.correlation.items()}
    row["seconds"] = time.perf_counter() - start
    return ScoredRow(row, {k: (e.low, e.high) for k, e in estimates.items()})
