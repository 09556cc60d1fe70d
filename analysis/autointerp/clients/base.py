"""The interface every client offers."""

import math
from typing import Protocol

from saekit.analysis.autointerp.prompts import Messages
from saekit.errors import SaekitError


class ClientError(SaekitError, RuntimeError):
    """A client could not get an answer (server unreachable, retries spent, bad response)."""


class Client(Protocol):
    name: str
    """What answered (recorded with every result), e.g. `local:smollm2-135m`."""

    def generate(self, conversations: list[Messages], max_tokens: int = 60) -> list[str]:
        """One answer per conversation (temperature 0)."""
        ...

    def yes_probability(self, conversations: list[Messages]) -> list[float]:
        """P(Yes) / (P(Yes) + P(No)) for the first answer token of each conversation."""
        ...


def yes_share(log_yes: float, log_no: float) -> float:
    """P(yes) / (P(yes) + P(no)) from two log-probabilities (-inf allowed; 0.5 if both are)."""
    if math.isinf(log_yes) and math.isinf(log_no):
        return 0.5
    top = max(log_yes, log_no)
    yes, no = math.exp(log_yes - top), math.exp(log_no - top)
    return yes / (yes + no)
