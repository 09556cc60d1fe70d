"""Disentanglement metrics over `latents [N, L]` and `factors [N, F]` (numpy or torch):
MIG, SAP, DCI, modularity / explicitness and InfoMEC, each with its published estimator as
the default and the estimator choices as parameters; BetaVAE and FactorVAE scores over a
generator whose factors can be held fixed."""

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

__all__ = [
    "DCIScores",
    "InfoMEC",
    "InterventionalScore",
    "ModularityExplicitness",
    "betavae_score",
    "dci",
    "factorvae_score",
    "infomec",
    "mig",
    "modularity_explicitness",
    "sap",
]
