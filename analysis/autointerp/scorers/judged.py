"""Detection and fuzzing: a yes/no judge (`Client.yes_probability`) reads the explanation and one
example at a time. Detection shows plain text; fuzzing marks tokens — the truly activating ones
on activating examples, as many random ones on non-activating examples — and asks whether the
marks fit. A probability above 0.5 is a yes."""

from transformers import PreTrainedTokenizerBase

from saekit.analysis.autointerp.clients import Client
from saekit.analysis.autointerp.examples import LatentExamples, latent_rng
from saekit.analysis.autointerp.prompts import detection_messages, fuzzing_messages
from saekit.analysis.autointerp.scorers.base import ScoreResult, labelled
from saekit.analysis.autointerp.scorers.metrics import binary_metrics
from saekit.analysis.autointerp.text import marked, token_strings
from saekit.latents.contexts import Example


def _judge(client: Client, name: str, conversations, labels) -> ScoreResult:
    probabilities = client.yes_probability(conversations)
    predictions = [p._replace(score=s) for p, s in zip(labels, probabilities, strict=True)]
    truth = [p.truth for p in predictions]
    metrics = binary_metrics(truth, [s > 0.5 for s in probabilities], probabilities)
    return ScoreResult(name, metrics, predictions)


class DetectionScorer:
    name = "detection"

    def __init__(self, client: Client, tokenizer: PreTrainedTokenizerBase):
        self.client, self.tokenizer = client, tokenizer

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        pairs = labelled(examples)
        texts = [self.tokenizer.decode(e.tokens) for e, _ in pairs]
        conversations = [detection_messages(explanation, t) for t in texts]
        return _judge(self.client, self.name, conversations, [p for _, p in pairs])


class FuzzingScorer:
    name = "fuzzing"

    def __init__(self, client: Client, tokenizer: PreTrainedTokenizerBase, seed: int = 0):
        self.client, self.tokenizer, self.seed = client, tokenizer, seed

    def _marks(self, example: Example, truth: bool, counts: list[int], rng) -> list[bool]:
        if truth:
            return [a > 0 for a in example.activations]
        n = min(int(rng.choice(counts)), len(example.tokens))
        chosen = set(rng.choice(len(example.tokens), n, replace=False).tolist())
        return [i in chosen for i in range(len(example.tokens))]

    def score(self, examples: LatentExamples, explanation: str) -> ScoreResult:
        rng = latent_rng(self.seed, examples.latent)
        counts = [sum(a > 0 for a in e.activations) for e in examples.activating] or [1]
        pairs = labelled(examples)
        conversations = []
        for example, label in pairs:
            pieces = token_strings(self.tokenizer, example.tokens)
            text = marked(pieces, self._marks(example, label.truth, counts, rng))
            conversations.append(fuzzing_messages(explanation, text))
        return _judge(self.client, self.name, conversations, [p for _, p in pairs])
