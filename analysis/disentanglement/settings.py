"""The settings of a metric table as plain dataclasses, importable without loading any
estimator (the command line builds its flags from them)."""

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Correction = Literal["miller-madow"] | None
CORRECTIONS = ("miller-madow",)


def check_correction(correction: Correction) -> None:
    if correction not in (None, *CORRECTIONS):
        raise ValueError(f"MI correction must be None or one of {CORRECTIONS}, got {correction!r}")


@dataclass
class MetricOptions:
    fast: bool = False
    """Dictionary-scale estimators: correlation-ratio SAP, L1-logistic DCI, binned InfoMEC."""
    dci_estimator: Literal["gbt", "lasso"] | None = None
    """gbt: the published gradient-boosted trees; lasso: fast (the default with --fast)."""
    discrete_latents: bool = False
    """InfoMEC: plug-in MI for discrete latents (else kNN, or binned with --fast)."""
    mi_correction: Correction = None
    """Bias correction of the plug-in MI behind MIG, modularity and binned/discrete InfoMEC
    (default: none, the published plug-in estimate)."""
    min_latent_nmi: float = 0.0
    """InfoM/InfoC leave out latents whose total normalised MI is below this (0: keep all, as
    published)."""

    def __post_init__(self):
        check_correction(self.mi_correction)
        if self.min_latent_nmi < 0:
            raise ValueError(f"min_latent_nmi must be >= 0, got {self.min_latent_nmi}")


@dataclass
class Uncertainty:
    resamples: int = 20
    """Half-samples scored for each interval (0: no interval; otherwise at least 2)."""
    seeds: int = 3
    """Estimator seeds whose spread is shown for estimators with randomness of their own
    (below 2: not measured)."""
    confidence: float = 0.95
    """Coverage of the intervals."""
    seed: int = 0
    """Seed of the half-samples and of the reported value's estimator."""

    def __post_init__(self):
        if self.resamples == 1 or self.resamples < 0:
            raise ValueError(f"resamples must be 0 or >= 2, got {self.resamples}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence}")

    @property
    def z(self) -> float:
        """The normal quantile that gives `confidence` coverage."""
        return NormalDist().inv_cdf((1 + self.confidence) / 2)
