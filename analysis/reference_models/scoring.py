"""Every disentanglement metric for one trained reference autoencoder, as one table row."""

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from saekit.analysis import disentanglement as metrics
from saekit.analysis.activity import vae_activity
from saekit.analysis.disentanglement.table import flat_scores, metric_table
from saekit.analysis.reference_models.autoencoders import QLAE, BetaVAE, ReferenceAutoencoder
from saekit.data.dsprites import DSprites

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


def score_reference(
    model: ReferenceAutoencoder, data: DSprites, cfg: ScoringConfig
) -> dict[str, float]:
    """Reconstruction (held-out per-pixel BCE), MIG, SAP, DCI, modularity/explicitness, InfoMEC
    (on the discrete codes for a QLAE), BetaVAE and FactorVAE scores, and for a VAE the number
    of passive variables and the mean |correlation| of its mean and sampled representations
    with and without them; `seconds` is the scoring time."""
    start = time.perf_counter()
    model.eval()
    batch = data.sample(cfg.eval_samples, np.random.default_rng(cfg.seed))
    z, v = _represent(model, batch.images), batch.factors
    row = {"reconstruction_bce": _reconstruction(model, batch.images[:CHUNK])}
    table = metric_table(z, v, ("mig", "sap", "dci", "modularity"), dci_estimator=cfg.dci_estimator)
    # InfoMEC reads a QLAE's discrete codes with the plug-in estimator, as its authors do
    is_qlae = isinstance(model, QLAE)
    codes = _represent(model, batch.images, codes=True) if is_qlae else z
    table |= metric_table(codes, v, ("infomec",), discrete_latents=is_qlae)
    row |= flat_scores(table)
    sizes = {"num_train": cfg.score_points, "num_eval": cfg.score_points // 2}
    represent = partial(_represent, model)
    row["betavae"] = metrics.betavae_score(data, represent, cfg.seed, **sizes).eval_accuracy
    row["factorvae"] = metrics.factorvae_score(
        data, represent, cfg.seed, num_variance_estimate=cfg.eval_samples, **sizes
    ).eval_accuracy
    if isinstance(model, BetaVAE):
        mean, logvar = model.posterior(torch.from_numpy(batch.images[:CHUNK]))
        activity = vae_activity(mean, logvar)
        row["passive"] = int(activity.passive.sum())
        row |= {f"correlation_{k}": v for k, v in activity.correlation.items()}
    row["seconds"] = time.perf_counter() - start
    return row
