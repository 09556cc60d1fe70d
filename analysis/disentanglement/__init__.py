"""Disentanglement metrics over `latents [N, L]` and `factors [N, F]` (numpy or torch):
MIG, SAP, DCI, modularity / explicitness and InfoMEC, each with its published estimator as
the default and the estimator choices as parameters; BetaVAE and FactorVAE scores over a
generator whose factors can be held fixed; an interval for every score (`uncertainty`)."""

from saekit.analysis.disentanglement.dci import DCIScores, dci
from saekit.analysis.disentanglement.infomec import InfoMEC, infomec
from saekit.analysis.disentanglement.interventional import (
    InterventionalScore,
    betavae_score,
    factorvae_score,
)
from saekit.analysis.disentanglement.mig import mig
from saekit.analysis.disentanglement.modularity import (
    ModularityExplicitness,
    modularity_explicitness,
)
from saekit.analysis.disentanglement.sap import sap
from saekit.analysis.disentanglement.settings import MetricOptions, Uncertainty
from saekit.analysis.disentanglement.table import metric_table
from saekit.analysis.disentanglement.uncertainty import (
    Estimate,
    estimate_over_seeds,
    estimate_scores,
)

__all__ = [
    "DCIScores",
    "Estimate",
    "InfoMEC",
    "InterventionalScore",
    "MetricOptions",
    "ModularityExplicitness",
    "Uncertainty",
    "betavae_score",
    "dci",
    "estimate_over_seeds",
    "estimate_scores",
    "factorvae_score",
    "infomec",
    "metric_table",
    "mig",
    "modularity_explicitness",
    "sap",
]
