"""One call from a dictionary and its store to an explanation and scores per latent: examples
(one store pass), explanations in batches, every scorer, each latent appended to
`results.jsonl` as it finishes; latents already there are not recomputed unless asked."""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from tqdm.auto import tqdm

from saekit.analysis.autointerp.clients import Client, LocalClient, OpenAIClient, OpenAIConfig
from saekit.analysis.autointerp.examples import ExampleConfig, LatentExamples, collect_examples
from saekit.analysis.autointerp.explainers import ExplainerInputs, make_explainer
from saekit.analysis.autointerp.latents import parse_latents
from saekit.analysis.autointerp.prompts import PROMPT_VERSION
from saekit.analysis.autointerp.record import LatentRecord
from saekit.analysis.autointerp.results import ResultWriter, read_results
from saekit.analysis.autointerp.scorers.registry import (
    DEFAULT_SCORERS,
    ScorerInputs,
    make_scorers,
)
from saekit.analysis.autointerp.vocab import VocabTokens
from saekit.analysis.embeddings import SentenceEmbedder
from saekit.latents.sources import LatentSource
from saekit.models import LanguageModel
from saekit.store import ActivationStore
from saekit.version import __version__


@dataclass
class InterpretConfig:
    latents: str = "random:50"
    """Which latents: a range 0-99, a list 3,17,42, or random:N."""
    explainer: str = "token-frequency"
    """Who explains (`EXPLAINERS`): token-frequency and vocab-projection need no model; llm asks
    the client."""
    scorers: list[str] = field(default_factory=lambda: list(DEFAULT_SCORERS))
    """Scorers to run (intervention, which steers the latent, is opt-in: it needs a dictionary
    and is the slowest)."""
    client: Literal["local", "openai"] = "local"
    """Who explains (with --explainer llm) and judges (detection, fuzzing): the local --model or
    an OpenAI-compatible server. With the default explainer the server only judges."""
    base_url: str | None = None
    """OpenAI-compatible server root, e.g. http://localhost:8000/v1 (with --client openai)."""
    client_model: str | None = None
    """Model name on that server."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the server's API key (never written anywhere)."""
    concurrency: int = 4
    """Requests in flight to the server."""
    timeout: float = 60.0
    """Seconds per server request."""
    retries: int = 6
    """Retries of a server request after a 429, a 5xx, a broken connection or a timeout."""
    backoff: float = 1.0
    """Seconds before a request's first retry, doubled for each further one."""
    max_wait: float = 60.0
    """Longest wait before one retry, also capping the server's Retry-After."""
    show_activations: bool = False
    """Show the explainer 0-10 activations beside the marked tokens."""
    batch_latents: int = 8
    """Latents explained together (one batched generation)."""
    recompute: bool = False
    """Redo latents already in results.jsonl."""
    examples: ExampleConfig = field(default_factory=ExampleConfig)


class InterpretRun(NamedTuple):
    results: dict[int, LatentRecord]
    """Every latent's record in results.jsonl (earlier runs' included)."""
    seconds: dict[str, float]
    """Time spent on examples, explaining and each scorer in this run."""


def openai_client(cfg: InterpretConfig) -> OpenAIClient:
    """The server client of `--client openai`, checked by one cheap request (a wrong address,
    key or model name fails here, before any work)."""
    if not cfg.base_url or not cfg.client_model:
        raise ValueError("--client openai needs --base-url and --client-model")
    client = OpenAIClient(
        OpenAIConfig(
            cfg.base_url,
            cfg.client_model,
            cfg.api_key_env,
            timeout=cfg.timeout,
            retries=cfg.retries,
            backoff=cfg.backoff,
            max_wait=cfg.max_wait,
            concurrency=cfg.concurrency,
        )
    )
    client.check()
    return client


def make_client(cfg: InterpretConfig, model: LanguageModel) -> Client:
    return LocalClient(model) if cfg.client == "local" else openai_client(cfg)


def _record(examples: LatentExamples, explanation, explainer: str, client: Client, scores):
    return LatentRecord(
        latent=examples.latent,
        explainer=explainer,
        explanation=explanation.text,
        parsed=explanation.parsed,
        raw=None if explanation.parsed else explanation.raw,
        examples={
            "train": [e.start for e in examples.train],
            "activating": [e.start for e in examples.activating],
            "random": [e.start for e in examples.random_negatives],
            "hard": [e.start for e in examples.hard_negatives],
        },
        scores={s.scorer: s.metrics for s in scores},
        predictions={
            s.scorer: [[p.kind, p.quantile, p.truth, round(p.score, 5)] for p in s.predictions]
            for s in scores
        },
        versions={"prompt": PROMPT_VERSION, "judge": client.name, "saekit": __version__},
    )


def interpret(
    source: LatentSource,
    store: ActivationStore,
    model: LanguageModel,
    out: str | Path,
    cfg: InterpretConfig | None = None,
    vocab: dict[int, VocabTokens] | None = None,
    client: Client | None = None,
) -> InterpretRun:
    """Explain and score the latents of `source` on `store`, results in `out/results.jsonl`;
    `vocab` (from `vocab_projection`) is recorded with each latent and feeds that explainer;
    `client` (default: made from `cfg`) explains and judges."""
    cfg = cfg or InterpretConfig()
    out = Path(out)
    latents = parse_latents(cfg.latents, source.n_latents, cfg.examples.seed)
    done = {} if cfg.recompute else read_results(out)
    todo = [i for i in latents if i not in done]
    seconds = {"examples": 0.0, "explain": 0.0} | dict.fromkeys(cfg.scorers, 0.0)
    if not todo:  # nothing asked of any model or server
        return InterpretRun(done, seconds)
    client = client or make_client(cfg, model)
    inputs = ExplainerInputs(client, model.tokenizer, vocab, cfg.show_activations)
    explainer = make_explainer(cfg.explainer, inputs)
    embedder = SentenceEmbedder()
    dictionary = getattr(source, "dictionary", None)
    inputs = ScorerInputs(client, model, embedder, cfg.examples.seed, dictionary)
    scorers = make_scorers(cfg.scorers, inputs)
    writer = ResultWriter(out)
    start = time.perf_counter()
    found = collect_examples(
        source, store, todo, cfg.examples, embed=embedder.token_embedder(model.tokenizer)
    )
    seconds["examples"] = time.perf_counter() - start
    for latent, reason in found.skipped.items():
        done[latent] = LatentRecord(latent, skipped=reason)
        writer.append(done[latent])
    ready = [found.latents[i] for i in todo if i in found.latents]
    for first in tqdm(range(0, len(ready), cfg.batch_latents), desc="interpret", unit="batch"):
        batch = ready[first : first + cfg.batch_latents]
        start = time.perf_counter()
        explanations = explainer.explain(batch)
        seconds["explain"] += time.perf_counter() - start
        for examples, explanation in zip(batch, explanations, strict=True):
            scores = []
            for scorer in scorers if explanation.parsed else []:
                start = time.perf_counter()
                scores.append(scorer.score(examples, explanation.text))
                seconds[scorer.name] += time.perf_counter() - start
            record = _record(examples, explanation, explainer.name, client, scores)
            if vocab is not None:
                record.vocab = vocab[examples.latent]._asdict()
            writer.append(record)
            done[examples.latent] = record
    return InterpretRun(done, seconds)
