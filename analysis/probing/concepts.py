"""Small templated concept sets with binary labels, shipped with saekit."""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class ConceptSet:
    name: str
    texts: list[str]
    labels: list[int]


CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Japan", "Tokyo"),
    ("China", "Beijing"),
    ("Russia", "Moscow"),
    ("Egypt", "Cairo"),
    ("Greece", "Athens"),
    ("Portugal", "Lisbon"),
    ("Poland", "Warsaw"),
    ("Austria", "Vienna"),
    ("Sweden", "Stockholm"),
    ("Norway", "Oslo"),
    ("Ireland", "Dublin"),
    ("Kenya", "Nairobi"),
    ("Canada", "Ottawa"),
    ("Mexico", "Mexico City"),
    ("Peru", "Lima"),
    ("Chile", "Santiago"),
    ("India", "New Delhi"),
    ("Thailand", "Bangkok"),
    ("Turkey", "Ankara"),
    ("Cuba", "Havana"),
    ("Hungary", "Budapest"),
    ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"),
    ("Argentina", "Buenos Aires"),
    ("Australia", "Canberra"),
    ("Belgium", "Brussels"),
]
POSITIVE = [
    "wonderful",
    "excellent",
    "delightful",
    "fantastic",
    "lovely",
    "brilliant",
    "superb",
    "charming",
    "pleasant",
    "marvelous",
]
NEGATIVE = [
    "terrible",
    "awful",
    "dreadful",
    "horrible",
    "boring",
    "disappointing",
    "miserable",
    "unpleasant",
    "painful",
    "disgusting",
]
SUBJECTS = ["movie", "meal", "trip", "book", "concert", "hotel", "game", "lecture"]


def capital_facts(seed: int = 0) -> ConceptSet:
    """'The capital of X is Y.' — true (1) or with another country's capital (0)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i, (country, capital) in enumerate(CAPITALS):
        wrong = CAPITALS[(i + rng.randrange(1, len(CAPITALS))) % len(CAPITALS)][1]
        texts += [
            f"The capital of {country} is {capital}.",
            f"The capital of {country} is {wrong}.",
        ]
        labels += [1, 0]
    return ConceptSet("capital_facts", texts, labels)


def arithmetic(n: int = 120, seed: int = 0) -> ConceptSet:
    """'a + b = c' — correct (1) or off by 1-3 (0)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        correct = i % 2 == 0
        c = a + b if correct else a + b + rng.choice([-3, -2, -1, 1, 2, 3])
        texts.append(f"{a} + {b} = {c}")
        labels.append(int(correct))
    return ConceptSet("arithmetic", texts, labels)


def sentiment() -> ConceptSet:
    """'The movie was wonderful.' — positive (1) or negative (0)."""
    texts, labels = [], []
    for subject in SUBJECTS:
        for word, label in [(w, 1) for w in POSITIVE] + [(w, 0) for w in NEGATIVE]:
            texts.append(f"The {subject} was {word}.")
            labels.append(label)
    return ConceptSet("sentiment", texts, labels)


CONCEPT_SETS = {"capital_facts": capital_facts, "arithmetic": arithmetic, "sentiment": sentiment}
