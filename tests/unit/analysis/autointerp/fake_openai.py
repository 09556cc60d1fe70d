"""A real HTTP server on localhost speaking the chat-completions API, answering from a script of
responses (one per request) and recording what it received."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(content: str, top_logprobs: list[tuple[str, float]] | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}}
    if top_logprobs is not None:
        alternatives = [{"token": t, "logprob": lp} for t, lp in top_logprobs]
        choice["logprobs"] = {"content": [{"token": content, "top_logprobs": alternatives}]}
    return {"choices": [choice]}


class FakeOpenAI:
    """`script` items: (status, body) with body a dict (sent as JSON) or str (sent raw), or
    ("sleep", seconds) to answer nothing for that long. Past the script: 200 "ok"."""

    def __init__(self):
        self.script: deque = deque()
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload = server.script.popleft() if server.script else (200, answer("ok"))
                if status == "sleep":
                    time.sleep(payload)
                    return
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
