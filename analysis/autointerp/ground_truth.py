"""Features whose meaning is known, for checking the scorers: each is an indicator on the
store's tokens (digits, capitalised words, month names, …) with its true explanation. A scorer
that works gives the true explanation a clearly better score than another feature's."""

from collections.abc import Callable
from typing import NamedTuple

from transformers import PreTrainedTokenizerBase

from saekit.latents.sources import TokenIndicatorSource

MONTHS = "January February March April May June July August September October November December"
PRONOUNS = {"he", "she", "they", "his", "her", "their", "him", "them"}
COUNTRIES = (
    "France Germany England Britain India China Japan Italy Spain America Canada Russia Mexico "
    "Brazil Australia Egypt Greece Ireland Scotland Poland Sweden Norway Iran Israel Turkey"
)
NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve twenty hundred"
COLOURS = "red blue green yellow black white orange purple brown grey gray pink"


class KnownFeature(NamedTuple):
    name: str
    explanation: str
    matches: Callable[[str], bool]
    """Whether a token's text (surrounding spaces stripped) belongs to the feature."""


KNOWN_FEATURES = (
    KnownFeature("digits", "digits and numbers", lambda t: t.isdigit()),
    KnownFeature("months", "names of months", lambda t: t in MONTHS.split()),
    KnownFeature("pronouns", "personal pronouns like he, she and they", lambda t: t in PRONOUNS),
    KnownFeature("parentheses", "parentheses", lambda t: t in ("(", ")")),
    KnownFeature(
        "ing", 'words ending in "ing"', lambda t: t.isalpha() and t.endswith("ing") and len(t) > 4
    ),
    KnownFeature("countries", "names of countries", lambda t: t in COUNTRIES.split()),
    KnownFeature("number-words", "numbers written as words", lambda t: t in NUMBER_WORDS.split()),
    KnownFeature("colours", "colour words", lambda t: t.lower() in COLOURS.split()),
)
"""Features rare enough that 32-token spans without them exist (capitalised words, punctuation
and articles are in almost every span of Wikipedia text, so they cannot be scored this way)."""


def known_source(
    tokenizer: PreTrainedTokenizerBase, features=KNOWN_FEATURES
) -> TokenIndicatorSource:
    """One latent per feature: 1 on every token whose text belongs to it."""
    vocab = {i: tokenizer.decode([i]).strip() for i in range(len(tokenizer))}
    return TokenIndicatorSource([{i for i, t in vocab.items() if f.matches(t)} for f in features])


def shuffled(explanations: list[str]) -> list[str]:
    """Each feature given the next feature's explanation (a derangement)."""
    return explanations[1:] + explanations[:1]
