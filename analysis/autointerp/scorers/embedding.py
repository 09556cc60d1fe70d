"""Embedding scorer: MiniLM similarity between the explanation (as the query) and each example's
text; ROC-AUC of activating against non-activating examples."""

from transformers import PreTrainedTokenizerBase

from saekit.analysis.autointerp.examples import LatentExamples
from saekit.analysis.autointerp.scorers.base import ScoreResult, labelled
from saekit.analysis.autointerp.scorers.metrics import roc_auc
from saekit.analysis.embeddings import SentenceEmbedder


class EmbeddingScorer:
    name = "embedding"

    def __init__(self, embedder: SentenceEmbedder, tokenizer: PreTrainedTokenizerBase):
        self.embedder, self.tokenizer = embedder, tokenizer

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        pairs = labelled(examples)
        texts = [self.tokenizer.decode(e.tokens) for e, _ in pairs]
        vectors = self.embedder.embed([explanation, *texts])
        similarity = (vectors[1:] @ vectors[0]).tolist()
        predictions = [p._replace(score=s) for (_, p), s in zip(pairs, similarity, strict=True)]
        truth = [p.truth for p in predictions]
        return ScoreResult(self.name, {"roc_auc": roc_auc(truth, similarity)}, predictions)
