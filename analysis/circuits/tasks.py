"""Circuit tasks: clean / corrupted prompt pairs for a tokenizer and the metric read at each
prompt's last token.

- `ioi` (Wang et al.): the 15 BABA templates and their ABBA versions; corruption ABC (three
  distinct names); metric logit[IO] - logit[S].
- `greater-than` (Hanna et al., adapted): SmolLM2 writes years digit by digit, so the prompt
  "The war lasted from the year 17t9 to the year 17" asks for the tens digit d, and "greater"
  is exactly d > t: metric sum_{d>t} P(d) - sum_{d<=t} P(d). The corruption "...year 1700..."
  keeps the token count and makes every continuation valid. This tests digit-wise comparison,
  not the two-digit comparison of the GPT-2 original.
- `docstring` (Heimersheim & Janiak): a def with six arguments and a docstring documenting the
  first two of its last three; the answer is the third (" c"); the corruption randomises the
  def's and the docstring's argument names; metric logit[c] - max logit of the other names.

Prompts start with BOS and are right-padded to one length; `last` is each prompt's last real
position (causal attention: padding never reaches it).
"""

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from saekit.jsonl import jsonl_lines

NAMES = (
    "Mary John Tom James Dan Sid Martin Amy Paul Kate Anna Mike Lisa Sarah David Emma Alice Bob "
    "Jack Rose Adam Ben Sam Max Leo Eve Grace Ryan Luke Jane Mark Peter Laura Helen Claire Nick"
).split()
PLACES = "store garden restaurant school hospital office station park house beach market".split()
OBJECTS = "ring kiss bone basketball computer necklace drink snack apple book bottle".split()
BABA_TEMPLATES = (
    "Then, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] had a lot of fun at the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] were working at the [PLACE]. [B] decided to give a [OBJECT] to",
    "Then, [B] and [A] were thinking about going to the [PLACE]. [B] wanted to give a [OBJECT] to",
    "Then, [B] and [A] had a long argument, and afterwards [B] said to",
    "After [B] and [A] went to the [PLACE], [B] gave a [OBJECT] to",
    "When [B] and [A] got a [OBJECT] at the [PLACE], [B] decided to give it to",
    "When [B] and [A] got a [OBJECT] at the [PLACE], [B] decided to give the [OBJECT] to",
    "While [B] and [A] were working at the [PLACE], [B] gave a [OBJECT] to",
    "While [B] and [A] were commuting to the [PLACE], [B] gave a [OBJECT] to",
    "After the lunch, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Afterwards, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] had a long argument. Afterwards [B] said to",
    "The [PLACE] [B] and [A] went to had a [OBJECT]. [B] gave it to",
    "Friends [B] and [A] found a [OBJECT] at the [PLACE]. [B] gave it to",
)
ABBA_TEMPLATES = tuple(t.replace("[B] and [A]", "[A] and [B]", 1) for t in BABA_TEMPLATES)
ARGUMENT_NAMES = (
    "load size files data token state name value path key item mode text line count node user "
    "index model field query result source target"
).split()
DIGITS = [str(d) for d in range(10)]


@dataclass(frozen=True)
class Task:
    """Clean and corrupted prompts of one task and the metric that reads them."""

    name: str
    clean: Tensor
    """`[N, T]` token ids (BOS first, right-padded)."""
    corrupt: Tensor
    """`[N, T]` the corrupted prompts, position by position the same length as the clean."""
    last: Tensor
    """`[N]` each prompt's last real position (where the metric is read)."""
    metric: Callable[[Tensor], Tensor]
    """Last-position logits `[N, vocab]` -> `[N]` task metric (higher: the task is done)."""
    prompts: list[str]
    """The clean prompts as text."""

    def __len__(self) -> int:
        return self.clean.shape[0]

    def last_logits(self, logits: Tensor) -> Tensor:
        """`[N, T, vocab]` -> `[N, vocab]` at each prompt's last real position."""
        return logits[
            torch.arange(logits.shape[0], device=logits.device), self.last.to(logits.device)
        ]


def single_token(tokenizer: PreTrainedTokenizerBase, word: str) -> int:
    ids = tokenizer(word, add_special_tokens=False).input_ids
    if len(ids) != 1:
        raise ValueError(f"{word!r} is {len(ids)} tokens for this tokenizer, not one")
    return ids[0]


def encode_pairs(tokenizer, pairs: list[tuple[str, str]]) -> tuple[Tensor, Tensor, Tensor]:
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    clean = [bos + tokenizer(c, add_special_tokens=False).input_ids for c, _ in pairs]
    corrupt = [bos + tokenizer(k, add_special_tokens=False).input_ids for _, k in pairs]
    for (c_text, k_text), c, k in zip(pairs, clean, corrupt, strict=True):
        if len(c) != len(k):
            raise ValueError(
                f"clean and corrupted prompts differ in length: {c_text!r} / {k_text!r}"
            )
    width = max(len(c) for c in clean)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else clean[0][-1]

    def padded(rows: list[list[int]]) -> Tensor:
        return torch.tensor([r + [pad] * (width - len(r)) for r in rows])  # cpu: prompts

    return padded(clean), padded(corrupt), torch.tensor([len(c) - 1 for c in clean])  # cpu: prompts


def ioi(tokenizer: PreTrainedTokenizerBase, n: int = 64, seed: int = 0) -> Task:
    rng = random.Random(seed)
    names = [n_ for n_ in NAMES if _is_single(tokenizer, " " + n_)]
    pairs, answers = [], []
    for i in range(n):
        template = (BABA_TEMPLATES + ABBA_TEMPLATES)[i % (2 * len(BABA_TEMPLATES))]
        a, b, x, y, z = rng.sample(names, 5)
        fill = {"[PLACE]": rng.choice(PLACES), "[OBJECT]": rng.choice(OBJECTS)}
        clean = _fill(template, {"[A]": a, "[B]": b} | fill)
        corrupt = _fill(_fill_abc(template, x, y, z), fill)
        pairs.append((clean, corrupt))
        answers.append([single_token(tokenizer, " " + a), single_token(tokenizer, " " + b)])
    metric = logit_difference(torch.tensor(answers))  # cpu: moved in the metric
    return Task("ioi", *encode_pairs(tokenizer, pairs), metric, [c for c, _ in pairs])


def logit_difference(answers: Tensor) -> Callable[[Tensor], Tensor]:
    """The metric logit[right] - logit[wrong], with `answers [N, 2]` the (right, wrong) token
    of each prompt."""

    def metric(logits: Tensor) -> Tensor:
        ids = answers.to(logits.device)
        return logits.gather(1, ids[:, :1])[:, 0] - logits.gather(1, ids[:, 1:])[:, 0]

    return metric


def greater_than(tokenizer: PreTrainedTokenizerBase, n: int = 64, seed: int = 0) -> Task:
    rng = random.Random(seed)
    nouns = ["war", "expedition", "drought", "reign", "project", "siege", "festival", "strike"]
    pairs, tens = [], []
    for _ in range(n):
        noun, t = rng.choice(nouns), rng.randrange(1, 9)
        stem = f"The {noun} lasted from the year 17"
        pairs.append((f"{stem}{t}9 to the year 17", f"{stem}00 to the year 17"))
        tens.append(t)
    digit_ids = torch.tensor(
        [single_token(tokenizer, d) for d in DIGITS]
    )  # cpu: moved in the metric
    greater = (
        torch.arange(10)[None, :] > torch.tensor(tens)[:, None]
    )  # cpu: [N, 10], moved in the metric

    def probability_difference(logits: Tensor) -> Tensor:
        probs = logits.softmax(-1)[:, digit_ids.to(logits.device)]
        above = greater.to(logits.device)
        return (probs * above).sum(-1) - (probs * ~above).sum(-1)

    return Task(
        "greater-than",
        *encode_pairs(tokenizer, pairs),
        probability_difference,
        [c for c, _ in pairs],
    )


def docstring(tokenizer: PreTrainedTokenizerBase, n: int = 64, seed: int = 0) -> Task:
    rng = random.Random(seed)
    names = [a for a in ARGUMENT_NAMES if _is_single(tokenizer, " " + a)]
    pairs, answers = [], []
    for _ in range(n):
        args = rng.sample(names, 6)
        other = rng.sample([a for a in names if a not in args], 8)
        clean = _docstring_prompt(args, args[3:5])
        pairs.append((clean, _docstring_prompt(other[:6], other[6:])))
        answers.append(
            [single_token(tokenizer, " " + a) for a in (args[5], args[3], args[4], *args[:3])]
        )
    ids = torch.tensor(answers)  # cpu: moved in the metric

    def logit_difference(logits: Tensor) -> Tensor:
        chosen = logits.gather(1, ids.to(logits.device))
        return chosen[:, 0] - chosen[:, 1:].max(-1).values

    return Task(
        "docstring", *encode_pairs(tokenizer, pairs), logit_difference, [c for c, _ in pairs]
    )


def _docstring_prompt(args: list[str], documented: list[str]) -> str:
    """`def m(self, a1..a6):` with a docstring documenting `documented` (clean: a4 and a5, so
    the answer is a6; corrupted: names the def does not have)."""
    signature = ", ".join(args)
    return (
        f'def m(self, {signature}):\n    """w1 w2 w3\n\n'
        f"    :param {documented[0]}: x y\n    :param {documented[1]}: x y\n    :param"
    )


def _is_single(tokenizer, word: str) -> bool:
    return len(tokenizer(word, add_special_tokens=False).input_ids) == 1


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def _fill_abc(template: str, x: str, y: str, z: str) -> str:
    """The ABC corruption: the two first mentions and the second subject are three names."""
    first, second = (
        ("[A]", "[B]") if template.index("[A]") < template.index("[B]") else ("[B]", "[A]")
    )
    template = template.replace(first, x, 1).replace(second, y, 1)
    return template.replace("[B]", z).replace("[A]", z)


TASKS: dict[str, Callable[..., Task]] = {
    "ioi": ioi,
    "greater-than": greater_than,
    "docstring": docstring,
}


def make_task(name: str, tokenizer: PreTrainedTokenizerBase, n: int = 64, seed: int = 0) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
    return TASKS[name](tokenizer, n, seed)


class PromptPair(NamedTuple):
    """One prompt of a user's own task, and the token that tells whether the model does it."""

    clean: str
    corrupted: str
    """The same number of tokens as `clean`, changed where the task's information is."""
    answer: str
    """The right next token, as written after the prompt (e.g. " Mary")."""
    wrong: str
    """The wrong next token the metric compares against (e.g. " John")."""


def task_from_pairs(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[PromptPair], name: str = "custom"
) -> Task:
    """A task from the user's own prompts; its metric is logit[answer] - logit[wrong] at each
    prompt's last position."""
    if not pairs:
        raise ValueError("no prompt pairs: give at least one (clean, corrupted, answer, wrong)")
    answers = []
    for number, pair in enumerate(pairs, 1):
        try:
            answers.append(
                [single_token(tokenizer, pair.answer), single_token(tokenizer, pair.wrong)]
            )
        except ValueError as error:
            raise ValueError(f"prompt pair {number}: {error}; answers must be one token") from None
    clean_and_corrupt = [(p.clean, p.corrupted) for p in pairs]
    metric = logit_difference(torch.tensor(answers))  # cpu: moved in the metric
    return Task(name, *encode_pairs(tokenizer, clean_and_corrupt), metric, [p.clean for p in pairs])


def load_prompt_pairs(path: str | Path) -> list[PromptPair]:
    """A JSONL file with `clean`, `corrupted`, `answer` and `wrong` on every line."""
    pairs = []
    for number, line in enumerate(jsonl_lines(Path(path).read_text()), 1):
        try:
            record = json.loads(line)
            pairs.append(PromptPair(*(str(record[k]) for k in PromptPair._fields)))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path} line {number}: expected a JSON object with {list(PromptPair._fields)} "
                f"({error})"
            ) from None
    if not pairs:
        raise ValueError(f"{path} holds no prompt pairs")
    return pairs
