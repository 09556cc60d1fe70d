"""Embedding scorer: MiniLM similarity between the explanation (as the query) and each example's
text; ROC-AUC of activating against non-activating examples."""

from torch import Tensor
from transformers import PreTrainedTokenizerBase

from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.scorers.base import ScoreResult, labelled
from saekit.analysis.autointerp.scorers.metrics import roc_auc
from saekit.analysis.embeddings import SentenceEmbedder


class EmbeddingScorer:
    """The examples' vectors of the last latent scored are kept, so scoring one latent's
    examples against several explanations embeds them once."""

    name = "embedding"

    def __init__(self, embedder: SentenceEmbedder, tokenizer: PreTrainedTokenizerBase):
        self.embedder, self.tokenizer = embedder, tokenizer
        self._last: tuple[tuple[str, ...], Tensor] | None = None

    def _vectors(self, texts: list[str]) -> Tensor:
        if self._last is None or self._last[0] != tuple(texts):
            self._last = (tuple(texts), self.embedder.embed(texts))
        return self._last[1]

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        pairs = labelled(examples)
        texts = [self.tokenizer.decode(e.tokens) for e, _ in pairs]
        query = self.embedder.embed([explanation])[0]
        similarity = (self._vectors(texts) @ query).tolist()
        predictions = [p._replace(score=s) for (_, p), s in zip(pairs, similarity, strict=True)]
        truth = [p.truth for p in predictions]
        return ScoreResult(self.name, {"roc_auc": roc_auc(truth, similarity)}, predictions)
