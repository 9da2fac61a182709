"""A real HTTP receiver on 127.0.0.1 (a random port) that verifies every webhook with the Standard Webhooks reference
library (against the secrets it was given) and records it. ``statuses`` is a queue of answers to give (then ``default``)."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 resets connections when a sender opens dozens at once


@dataclass
class Received:
    message_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    error: str = ""
    host: str = ""

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)  # a delivery verifies when any of them signed it
    default: int = 200
    delay: float = 0.0  # seconds to wait before answering (a receiver that hangs)
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/prm"

    def verified_ids(self) -> list[str]:
        return [item.message_id for item in self.received if item.verified]

    def _answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.default


def start_receiver() -> Receiver:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            verified, error = False, "no secret"
            for secret in list(receiver.secrets):
                try:
                    Webhook(secret).verify(body, headers)
                except (WebhookVerificationError, ValueError, IndexError) as exc:
                    error = str(exc)
                else:
                    verified, error = True, ""
                    break
            with receiver.lock:
                receiver.received.append(Received(headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""),
                                                  headers.get("webhook-signature", ""), body, verified, error,
                                                  headers.get("host", "")))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver._answer()
            answer = b'{"ok":true}' if status < 300 else b'{"error":"boom"}'
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    receiver.server = _Server(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    receiver.server.handle_error = lambda request, address: None  # a client that gave up waiting: not an error here
    threading.Thread(target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return receiver
