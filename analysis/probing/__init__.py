"""Layer-wise probing ("Exploring Concept Depth"): linear probes at every layer for labelled
concept sets, the accuracy-vs-layer curve, and the depth where each concept becomes decodable."""

from saekit.analysis.probing.concepts import CONCEPT_SETS, ConceptSet
from saekit.analysis.probing.probe import ProbeCurve, plot_curves, probe_layers
from saekit.analysis.probing.results import PROBES, ProbeResults, run_probes

__all__ = [
    "CONCEPT_SETS",
    "PROBES",
    "ConceptSet",
    "ProbeCurve",
    "ProbeResults",
    "plot_curves",
    "probe_layers",
    "run_probes",
]
