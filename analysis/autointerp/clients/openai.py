"""Any OpenAI-compatible chat-completions server (vLLM, llama.cpp server, Ollama, hosted APIs)
over plain HTTP: the API key is read from an environment variable only (never written or
logged), each request has a timeout, and at most `concurrency` requests are in flight. What a
retry can fix is retried with exponential backoff (or after the server's `Retry-After`): 408,
409, 429 and 5xx answers, a 200 whose JSON body is cut short, and every transport failure (a
refused, reset or dropped connection, a short read, a timeout)."""

import email.utils
import http.client
import json
import math
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from saekit.analysis.autointerp.clients.base import ClientError, yes_share
from saekit.analysis.autointerp.prompts import Messages

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}
TRANSPORT_ERRORS = (http.client.HTTPException, ConnectionError, TimeoutError)
"""Raised while a request is sent or its answer read (RemoteDisconnected, IncompleteRead,
ConnectionResetError, BrokenPipeError, socket timeouts, ...)."""
PREFLIGHT_ATTEMPTS = 2
"""Tries of the preflight request: a wrong address or key should stop a run in seconds."""


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
    retries: int = 6
    """Retries of a request that a retry can fix (429, 5xx, a broken connection, a timeout)."""
    backoff: float = 1.0
    """Seconds before the first retry, doubled for each further one."""
    max_wait: float = 60.0
    """Longest wait before one retry, also capping the server's Retry-After."""
    concurrency: int = 4
    """Requests in flight at once."""
    top_logprobs: int = 20
    """Alternatives asked for when judging yes/no."""


class _Retryable(Exception):
    """A failure a later attempt may not meet; `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now; None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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

    def _refused(self, code: int, detail: str) -> ClientError:
        hints = {
            401: f" (is ${self.cfg.api_key_env} set to a valid key?)",
            403: f" (is ${self.cfg.api_key_env} set to a valid key?)",
            404: (
                f" (is --base-url the API root, e.g. http://localhost:8000/v1, and does the server"
                f" serve --client-model {self.cfg.model!r}?)"
            ),
        }
        hint = hints.get(code, "")
        return ClientError(f"{self.url} refused the request: HTTP {code} {detail}{hint}")

    def _post_once(self, body: dict) -> dict:
        request = urllib.request.Request(
            self.url, json.dumps(body).encode(), self._headers(), method="POST"
        )
        timeout = f"no answer within {self.cfg.timeout} s"
        try:
            with urllib.request.urlopen(request, timeout=self.cfg.timeout) as response:
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            if error.code not in RETRYABLE:
                raise self._refused(error.code, detail) from None
            wait = retry_after_seconds(error.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {error.code} {detail}", wait) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _Retryable(timeout) from None
            reason = f"cannot reach the server ({error.reason}); is it running at --base-url?"
            raise _Retryable(reason) from None
        except TimeoutError:
            raise _Retryable(timeout) from None
        except TRANSPORT_ERRORS as error:
            raise _Retryable(f"the connection broke ({type(error).__name__}: {error})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise _Retryable(f"answered with malformed JSON: {text[:200]!r}") from None

    def _post(self, body: dict, attempts: int | None = None) -> dict:
        attempts = self.cfg.retries + 1 if attempts is None else attempts
        failure = _Retryable("no attempt made")
        for attempt in range(attempts):
            if attempt:
                wait = failure.wait
                wait = self.cfg.backoff * 2 ** (attempt - 1) if wait is None else wait
                time.sleep(min(wait, self.cfg.max_wait))
            try:
                return self._post_once(body)
            except _Retryable as error:
                failure = error
        raise ClientError(f"{self.url}: {failure.reason} after {attempts} attempts")

    def check(self) -> None:
        """One one-token request, so that a wrong --base-url, API key or --client-model stops
        the run before any work is done."""
        ping = self._body([{"role": "user", "content": "Say yes."}], 1)
        answer = self._post(ping, PREFLIGHT_ATTEMPTS)
        if not isinstance(answer, dict) or not answer.get("choices"):
            raise ClientError(
                f"{self.url} answered without choices: {str(answer)[:200]}; is it an "
                "OpenAI-compatible chat-completions server?"
            )

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


def _error_detail(error: urllib.error.HTTPError) -> str:
    """The first 200 characters of an error answer's body (empty if it cannot be read)."""
    try:
        return error.read().decode("utf-8", "replace")[:200]
    except (*TRANSPORT_ERRORS, OSError):
        return ""
