"""Disentanglement metrics over `latents [N, L]` and `factors [N, F]` (numpy or torch):
MIG, SAP, DCI, modularity / explicitness and InfoMEC, each with its published estimator as
the default and the estimator choices as parameters."""

from saekit.analysis.disentanglement.dci import DCIScores, dci
from saekit.analysis.disentanglement.infomec import InfoMEC, infomec
from saekit.analysis.disentanglement.mig import mig
from saekit.analysis.disentanglement.modularity import (
    ModularityExplicitness,
    modularity_explicitness,
)
from saekit.analysis.disentanglement.sap import sap

__all__ = [
    "DCIScores",
    "InfoMEC",
    "ModularityExplicitness",
    "dci",
    "infomec",
    "mig",
    "modularity_explicitness",
    "sap",
]
