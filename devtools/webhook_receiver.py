"""A local webhook receiver for the benchmark (``manage.py bench --only webhooks``): a threaded HTTP server on
127.0.0.1 that verifies every POST with the Standard Webhooks reference library and counts them; ``GET /stats``
answers {"received", "verified", "unique"}. Run as its own process so it does not share the benchmark's CPU time:

    echo "$SECRET" | python devtools/webhook_receiver.py   # prints its port, then serves until killed

(The secret is read from standard input, not the command line, where other users' ``ps`` would see it.)
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 resets connections when a sender opens dozens at once


def serve(secret: str) -> None:
    webhook = Webhook(secret)
    lock = threading.Lock()
    stats = {"received": 0, "verified": 0}
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                webhook.verify(body, {name.lower(): value for name, value in self.headers.items()}, json_parse=False)
                ok = True
            except WebhookVerificationError:
                ok = False
            with lock:
                stats["received"] += 1
                if ok:
                    stats["verified"] += 1
                    seen.add(self.headers.get("webhook-id", ""))
            self._answer(204 if ok else 401, b"")

        def do_GET(self):  # noqa: N802
            with lock:
                answer = json.dumps({**stats, "unique": len(seen)}).encode()
            self._answer(200, answer)

        def _answer(self, status, body):
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.stdin.readline().strip())
