"""Feature-circuit nodes joined to what their latents respond to: the top activating contexts
saved by the feature-statistics pass (`saekit evaluate --feature-stats`)."""

from pathlib import Path

from saekit.analysis.circuits.features import ERROR
from saekit.artifacts import FEATURE_STATS
from saekit.evals.feature_stats import FeatureStats
from saekit.latents.contexts import top_contexts
from saekit.store import ActivationStore


class FeatureContexts:
    """Top activating contexts of latents, from a dictionary folder's feature statistics and the
    store they index; empty when either is missing."""

    def __init__(self, tokenizer, acts: str | None, per_latent: int = 3):
        self.tokenizer = tokenizer
        self.store = ActivationStore.open(acts) if acts else None
        self.per_latent = per_latent
        self._stats: dict[str, FeatureStats | None] = {}

    def of(self, folder: str, latent: int) -> dict:
        stats = self._load(folder)
        if stats is None or latent == ERROR:
            return {}
        found = top_contexts(self.store, stats, latent)[: self.per_latent]
        texts = [{"value": c.value, "text": self.tokenizer.decode(c.token_ids)} for c in found]
        return {"contexts": texts}

    def _load(self, folder: str) -> FeatureStats | None:
        if folder not in self._stats:
            has_stats = (Path(folder) / FEATURE_STATS).exists()
            self._stats[folder] = FeatureStats.load(folder) if has_stats and self.store else None
        return self._stats[folder]
