"""The OpenAI-compatible client against a real local HTTP server: answers, logprobs, retries on
429, a 5xx beyond the retry budget, a timeout, malformed JSON, a refused connection — and the
API key only ever in the Authorization header."""

import math
import socket
from datetime import UTC, datetime, timedelta

import pytest

from saekit.analysis.autointerp.clients import ClientError, OpenAIClient, OpenAIConfig
from saekit.analysis.autointerp.clients.openai import retry_after_seconds

from .fake_openai import FakeOpenAI, answer

KEY = "sk-test-never-written-0123456789"
MESSAGES = [{"role": "user", "content": "Is this a month? Answer Yes or No."}]


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.close()


def _client(server, **options) -> OpenAIClient:
    cfg = {"timeout": 5.0, "retries": 2, "backoff": 0.01, "concurrency": 2} | options
    return OpenAIClient(OpenAIConfig(server.base_url, "judge-model", "SAEKIT_TEST_KEY", **cfg))


def test_answers_come_back_in_order_with_the_key_in_the_header_only(server, monkeypatch):
    monkeypatch.setenv("SAEKIT_TEST_KEY", KEY)
    server.script.extend([(200, answer("first")), (200, answer("second"))])
    client = _client(server, concurrency=1)
    assert client.generate([MESSAGES, MESSAGES], max_tokens=7) == ["first", "second"]
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["body"] == {
        "model": "judge-model",
        "messages": MESSAGES,
        "max_tokens": 7,
        "temperature": 0,
    }
    assert KEY not in client.name and KEY not in repr(vars(client))


def test_yes_probability_from_logprobs_or_from_the_text(server):
    server.script.extend(
        [
            (200, answer("Yes", [("Yes", -0.2), (" yes", -2.0), ("No", -1.5)])),
            (200, answer("No")),  # a server without logprobs: the text decides
            (200, answer("Maybe", [("Maybe", -0.1)])),  # neither word among the alternatives
        ]
    )
    p_yes, p_no, unsure = _client(server, concurrency=1).yes_probability([MESSAGES] * 3)
    yes = math.exp(-0.2) + math.exp(-2.0)
    assert p_yes == pytest.approx(yes / (yes + math.exp(-1.5)))
    assert (p_no, unsure) == (0.0, 0.5)
    body = server.requests[0]["body"]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1


def test_429_is_retried_then_succeeds(server):
    server.script.extend([(429, {"error": "slow down"}), (200, answer("fine"))])
    assert _client(server).generate([MESSAGES]) == ["fine"]
    assert len(server.requests) == 2


def test_5xx_beyond_the_retry_budget_is_a_clear_error(server):
    server.script.extend([(500, {"error": "boom"})] * 3)
    with pytest.raises(ClientError, match=r"HTTP 500 .* after 3 attempts"):
        _client(server).generate([MESSAGES])
    assert len(server.requests) == 3


def test_a_timeout_is_a_clear_error(server):
    server.script.append(("sleep", 2.0))
    with pytest.raises(ClientError, match="no answer within 0.3 s"):
        _client(server, timeout=0.3, retries=0).generate([MESSAGES])


def test_malformed_json_beyond_the_retry_budget_is_a_clear_error(server):
    server.script.extend([(200, "{not json")] * 3)
    with pytest.raises(ClientError, match="malformed JSON.*after 3 attempts"):
        _client(server).generate([MESSAGES])
    server.script.append((200, {"no": "choices"}))
    with pytest.raises(ClientError, match="without choices"):
        _client(server).generate([MESSAGES])


def test_a_refused_key_names_the_variable_not_the_key(server, monkeypatch):
    monkeypatch.setenv("SAEKIT_TEST_KEY", KEY)
    server.script.append((401, {"error": "bad key"}))
    with pytest.raises(ClientError, match=r"HTTP 401.*SAEKIT_TEST_KEY") as error:
        _client(server).generate([MESSAGES])
    assert KEY not in str(error.value)


def test_an_unreachable_server_is_a_clear_error():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = OpenAIConfig(f"http://127.0.0.1:{port}/v1", "m", retries=1, backoff=0.01)
    with pytest.raises(ClientError, match="cannot reach the server"):
        OpenAIClient(cfg).generate([MESSAGES])


@pytest.mark.parametrize(
    "fault",
    [
        (200, '{"choices": [{"index": 0, "message": {"role": "assis'),  # a body cut short
        ("short", answer("never whole")),  # fewer bytes than Content-Length: IncompleteRead
        ("close", None),  # closed without an answer: RemoteDisconnected
        ("reset", None),  # ConnectionResetError
        (502, {"error": "bad gateway"}),
    ],
    ids=["cut-json", "incomplete-read", "remote-disconnected", "reset", "502"],
)
def test_faults_a_retry_fixes_are_retried(server, fault):
    server.script.extend([fault, (200, answer("whole"))])
    assert _client(server).generate([MESSAGES]) == ["whole"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("fault", [("close", None), ("reset", None), ("short", answer("x"))])
def test_transport_faults_beyond_the_budget_are_a_client_error(server, fault):
    server.script.extend([fault] * 3)
    with pytest.raises(ClientError, match="connection broke.*after 3 attempts"):
        _client(server).generate([MESSAGES])


def test_retry_after_seconds_is_honoured_and_capped(server):
    server.script.extend([(429, {"error": "slow"}, {"Retry-After": "1"}), (200, answer("ok"))])
    assert _client(server).generate([MESSAGES]) == ["ok"]
    first, second = (r["time"] for r in server.requests)
    assert second - first >= 0.95  # the server's wait, not the 0.01 s backoff
    server.requests.clear()
    server.script.extend([(503, {"error": "busy"}, {"Retry-After": "3600"}), (200, answer("ok"))])
    assert _client(server, max_wait=0.2).generate([MESSAGES]) == ["ok"]
    first, second = (r["time"] for r in server.requests)
    assert 0.15 <= second - first < 30  # capped by max_wait


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)
    later = (now + timedelta(seconds=7)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(later, now) == pytest.approx(7.0)
    assert retry_after_seconds("2.5", now) == 2.5
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None) is None


def test_the_preflight_names_the_flag_to_fix(server):
    client = _client(server)
    client.check()  # a working server: one one-token request
    assert len(server.requests) == 1 and server.requests[0]["body"]["max_tokens"] == 1
    server.script.append((404, {"error": "The model `judge-model` does not exist."}))
    with pytest.raises(ClientError, match=r"HTTP 404.*--base-url.*--client-model 'judge-model'"):
        client.check()
    server.script.append((200, {"object": "not a completion"}))
    with pytest.raises(ClientError, match="OpenAI-compatible"):
        client.check()
