"""Any OpenAI-compatible chat-completions server (vLLM, llama.cpp server, Ollama, hosted APIs)
over plain HTTP: the API key is read from an environment variable only (never written or
logged), each request has a timeout, 429 and 5xx answers are retried with exponential backoff,
and at most `concurrency` requests are in flight."""

import json
import math
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from saekit.analysis.autointerp.clients.base import ClientError, yes_share
from saekit.analysis.autointerp.prompts import Messages

RETRYABLE = {429, 500, 502, 503, 504}


@dataclass
class OpenAIConfig:
    base_url: str
    """Server root up to the API version, e.g. http://localhost:8000/v1."""
    model: str
    """Model name the server knows."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key (unset: no Authorization header)."""
    timeout: float = 60.0
    """Seconds per request."""
    retries: int = 4
    """Retries after a 429, a 5xx, a timeout or a refused connection."""
    backoff: float = 1.0
    """Seconds before the first retry, doubled for each further one."""
    concurrency: int = 4
    """Requests in flight at once."""
    top_logprobs: int = 20
    """Alternatives asked for when judging yes/no."""


class OpenAIClient:
    def __init__(self, cfg: OpenAIConfig):
        self.cfg = cfg
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.name = f"openai:{cfg.model}@{cfg.base_url}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.cfg.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _post_once(self, body: dict) -> dict:
        request = urllib.request.Request(
            self.url, json.dumps(body).encode(), self._headers(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.cfg.timeout) as response:
            text = response.read().decode("utf-8", "replace")
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ClientError(f"{self.url} answered with malformed JSON: {text[:200]!r}") from error

    def _post(self, body: dict) -> dict:
        last = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                return self._post_once(body)
            except urllib.error.HTTPError as error:
                detail = error.read().decode("utf-8", "replace")[:200]
                if error.code not in RETRYABLE:
                    hint = (
                        f" (is ${self.cfg.api_key_env} right?)" if error.code in (401, 403) else ""
                    )
                    raise ClientError(
                        f"{self.url} refused the request: HTTP {error.code} {detail}{hint}"
                    ) from None
                last = f"HTTP {error.code} {detail}"
            except TimeoutError:
                last = f"no answer within {self.cfg.timeout} s"
            except urllib.error.URLError as error:
                if isinstance(error.reason, TimeoutError):
                    last = f"no answer within {self.cfg.timeout} s"
                else:
                    last = f"cannot reach the server ({error.reason}); is it running at --base-url?"
        raise ClientError(f"{self.url}: {last} after {self.cfg.retries + 1} attempts")

    def _map(self, fn, items: list) -> list:
        with ThreadPoolExecutor(max_workers=max(1, self.cfg.concurrency)) as pool:
            return list(pool.map(fn, items))

    def _body(self, messages: Messages, max_tokens: int) -> dict:
        return {
            "model": self.cfg.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0,
        }

    def generate(self, conversations: list[Messages], max_tokens: int = 60) -> list[str]:
        def one(messages: Messages) -> str:
            answer = self._post(self._body(messages, max_tokens))
            try:
                return answer["choices"][0]["message"]["content"] or ""
            except (KeyError, IndexError, TypeError) as error:
                raise ClientError(
                    f"{self.url} answered without choices[0].message: {str(answer)[:200]}"
                ) from error

        return self._map(one, conversations)

    def yes_probability(self, conversations: list[Messages]) -> list[float]:
        def one(messages: Messages) -> float:
            body = self._body(messages, 1) | {
                "logprobs": True,
                "top_logprobs": self.cfg.top_logprobs,
            }
            answer = self._post(body)
            return _yes_from_answer(answer)

        return self._map(one, conversations)


def _yes_from_answer(answer: dict) -> float:
    """From the first token's top log-probabilities when the server returns them, else from the
    answer text (1 for yes, 0 for no, 0.5 for anything else)."""
    choice = (answer.get("choices") or [{}])[0]
    content = ((choice.get("logprobs") or {}).get("content")) or []
    if content:
        yes, no = -math.inf, -math.inf
        for alternative in content[0].get("top_logprobs") or []:
            word = alternative.get("token", "").strip().lower()
            if word == "yes":
                yes = float(_logaddexp(yes, alternative["logprob"]))
            elif word == "no":
                no = float(_logaddexp(no, alternative["logprob"]))
        return yes_share(yes, no)
    text = ((choice.get("message") or {}).get("content") or "").strip().lower()
    return 1.0 if text.startswith("yes") else 0.0 if text.startswith("no") else 0.5


def _logaddexp(a: float, b: float) -> float:
    if math.isinf(a):
        return b
    top = max(a, b)
    return top + math.log(math.exp(a - top) + math.exp(b - top))
