"""A real HTTP server on localhost speaking the chat-completions API, answering from a script of
responses (one per request) and recording what it received."""

import json
import socket
import struct
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
    (status, body, headers) with extra headers; ("sleep", seconds) to answer nothing for that
    long; ("close", None) to close the connection without answering; ("reset", None) to reset
    it; ("short", body) to promise more bytes than it sends. Past the script: 200 "ok"."""

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
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "time": time.monotonic(),
                    }
                )
                item = server.script.popleft() if server.script else (200, answer("ok"))
                status, payload, headers = (*item, {})[:3]
                if status == "sleep":
                    time.sleep(payload)
                    return
                if status in ("close", "reset"):
                    self._drop(reset=status == "reset")
                    return
                self._send(status, payload, headers)

            def _drop(self, reset: bool) -> None:
                if reset:  # RST instead of FIN
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()

            def _send(self, status, payload, headers: dict) -> None:
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                short = status == "short"
                self.send_response(200 if short else status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) + (100 if short else 0)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                if short:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *args: None  # a dropped connection is the point
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
