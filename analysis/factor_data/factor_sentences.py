"""Templated English sentences with known generating factors — subject gender, subject number,
tense and sentiment — for scoring a language model's representations (and a dictionary's
latents) for disentanglement. Every combination of factor values appears with every subject
noun, verb pair and object, so the factors are independent by construction."""

import itertools
from dataclasses import dataclass

import numpy as np

FACTOR_NAMES = ("gender", "number", "tense", "sentiment")
FACTOR_VALUES = (
    ("male", "female"),
    ("singular", "plural"),
    ("past", "present", "future"),
    ("negative", "positive"),
)

NOUNS = {  # (gender, number) -> nouns
    ("male", "singular"): ["The man", "The boy", "The king", "My brother"],
    ("male", "plural"): ["The men", "The boys", "The kings", "My brothers"],
    ("female", "singular"): ["The woman", "The girl", "The queen", "My sister"],
    ("female", "plural"): ["The women", "The girls", "The queens", "My sisters"],
}
VERBS = [  # (negative, positive), regular verbs in their base form
    ("hate", "love"),
    ("dislike", "enjoy"),
    ("criticize", "praise"),
    ("despise", "admire"),
    ("loathe", "like"),
]
OBJECTS = ["the new film", "the dinner", "the long trip", "the old house", "the music"]


@dataclass(frozen=True)
class FactorSentences:
    texts: list[str]
    factors: np.ndarray
    """`[n, 4]` value index of gender, number, tense, sentiment (see FACTOR_VALUES)."""
    names: tuple[str, ...] = FACTOR_NAMES


def conjugate(verb: str, number: str, tense: str) -> str:
    if tense == "future":
        return f"will {verb}"
    if tense == "past":
        return verb + ("d" if verb.endswith("e") else "ed")
    return verb + "s" if number == "singular" else verb


def factor_sentences() -> FactorSentences:
    """2,400 sentences: 2 genders x 2 numbers x 3 tenses x 2 sentiments x 4 nouns x 5 verbs x
    5 objects, e.g. "The queens will admire the old house." """
    texts, factors = [], []
    value_sets = itertools.product(*(range(len(v)) for v in FACTOR_VALUES))
    for gender, number, tense, sentiment in value_sets:
        g, n, t = FACTOR_VALUES[0][gender], FACTOR_VALUES[1][number], FACTOR_VALUES[2][tense]
        for noun, verbs, obj in itertools.product(NOUNS[(g, n)], VERBS, OBJECTS):
            texts.append(f"{noun} {conjugate(verbs[sentiment], n, t)} {obj}.")
            factors.append((gender, number, tense, sentiment))
    return FactorSentences(texts, np.array(factors))
