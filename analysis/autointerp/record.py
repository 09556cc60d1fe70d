"""One latent's auto-interp result, as one line of `results.jsonl`: its explanation (or why it
was skipped, or the raw answer that could not be parsed), the examples used, every scorer's
metrics and per-example predictions, and what produced it."""

import json
from dataclasses import asdict, dataclass, field, fields


@dataclass
class LatentRecord:
    latent: int
    skipped: str | None = None
    """Why it has no explanation (it fires too rarely); the other fields are then empty."""
    explainer: str = ""
    explanation: str = ""
    """The explanation ('' when the answer could not be parsed)."""
    parsed: bool = False
    raw: str | None = None
    """The explainer's answer, kept when it could not be parsed."""
    examples: dict[str, list[int]] = field(default_factory=dict)
    """Per kind (train, activating, random, hard), the first store row of each example used."""
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """Per scorer, its metrics."""
    predictions: dict[str, list[list]] = field(default_factory=dict)
    """Per scorer, `[kind, quantile, truth, score]` for each test example."""
    versions: dict[str, str] = field(default_factory=dict)
    """Prompt version, judge and saekit version."""
    vocab: dict | None = None
    """Its top promoted / suppressed tokens through the unembedding (dictionaries only)."""

    def to_dict(self) -> dict:
        if self.skipped is not None:
            return {"latent": self.latent, "skipped": self.skipped}
        out = asdict(self)
        del out["skipped"]
        if self.parsed:
            del out["raw"]
        if self.vocab is None:
            del out["vocab"]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> "LatentRecord":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, line: str) -> "LatentRecord":
        return cls.from_dict(json.loads(line))

    def flat_scores(self) -> dict[str, float]:
        """The numeric metrics as `{"scorer.metric": value}`."""
        return {
            f"{scorer}.{name}": value
            for scorer, metrics in self.scores.items()
            for name, value in metrics.items()
            if isinstance(value, int | float)
        }
