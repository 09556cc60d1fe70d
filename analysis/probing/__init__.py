"""Layer-wise probing ("Exploring Concept Depth"): linear probes at every layer for labelled
concept sets, the accuracy-vs-layer curve, and the depth where each concept becomes decodable."""

from saekit.analysis.probing.concepts import CONCEPT_SETS, ConceptSet
from saekit.analysis.probing.probe import ProbeCurve, plot_curves, probe_layers

__all__ = ["CONCEPT_SETS", "ConceptSet", "ProbeCurve", "plot_curves", "probe_layers"]
