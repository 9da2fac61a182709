"""The HTTP side of deliveries: sign, POST, report. No database here (webhooks.services claims and records).

- One pooled ``httpx.Client`` per process (keep-alive to each receiver), driven by a thread pool of
  ``WEBHOOK_CONCURRENCY`` threads: a batch of deliveries goes out concurrently. The threads are shared equally
  between the batch's URLs, and a URL that gives no answer stops being tried for the rest of the batch (``send``),
  so a receiver that hangs costs about one timeout, not the batch's sum of them, and does not hold up the others.
- Short timeouts (``WEBHOOK_TIMEOUT_SECONDS`` per read/write, at most 3 s to connect, the same bound on the whole
  answer); redirects are never followed (a 3xx is a failure: the receiver must give its final URL); proxies from the
  environment are ignored (the request must go to the address the SSRF guard checked); at most 64 KB of the answer is
  read.
- Signing follows Standard Webhooks with its reference library (``standardwebhooks``): ``webhook-id``,
  ``webhook-timestamp`` (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 over id.timestamp.body>``
  keyed with the bytes of the ``whsec_`` secret.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from webhooks import targets

MAX_ANSWER_BYTES = 64 * 1024
ERROR_MAX = 500
USER_AGENT = "PRM-Webhooks/1.0"
NOT_SENT = "Not sent: another delivery to this URL in the same batch could not reach it"


@dataclass(frozen=True, slots=True)
class Message:
    """One POST to make: everything is decided before it leaves (the body's bytes are what is signed)."""

    key: object  # the caller's id for it (a delivery id)
    url: str
    message_id: str
    body: str
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    key: object
    status: int | None  # the HTTP status, None when no answer came
    error: str  # "" when delivered
    duration_ms: int
    attempted_at: datetime
    unreachable: bool = False  # no connection or no answer in time: the URL is down or hangs

    @property
    def ok(self) -> bool:
        return not self.error and self.status is not None and 200 <= self.status < 300


def sign(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    return Webhook(secret).sign(msg_id=message_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body)


def headers_for(*, secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body),
    }


class Sender:
    """A pooled client and a thread pool; ``send(messages)`` returns one Outcome per message, in order."""

    def __init__(self, *, concurrency: int | None = None, timeout: float | None = None,
                 allow_private: bool | None = None):
        self.concurrency = concurrency or settings.WEBHOOK_CONCURRENCY
        self.timeout = timeout or settings.WEBHOOK_TIMEOUT_SECONDS
        self._allow_private = allow_private  # None: the setting, read at each batch
        self.client = httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 3.0)),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
            follow_redirects=False,
            trust_env=False,
        )
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="webhooks")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, messages: list[Message]) -> list[Outcome]:
        if not messages:
            return []
        allow_private = (settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS if self._allow_private is None
                         else self._allow_private)
        by_url: dict[str, list[Message]] = {}
        for message in messages:
            by_url.setdefault(message.url, []).append(message)
        # Lanes: each URL gets an equal share of the threads, each lane sends its messages one after the other, and a
        # URL that could not be reached (refused connection, no answer in time) stops being tried in this batch (the
        # rest fail at once and follow the retry schedule). So a receiver that hangs costs one timeout and its
        # share of the threads, never the whole batch, and the other endpoints' deliveries go out beside it.
        share = max(1, self.concurrency // len(by_url))
        lanes = []
        for url, queued in by_url.items():
            try:  # the SSRF check once per URL and batch (a DNS lookup per host)
                target = targets.target(url, allow_private=allow_private)
            except targets.UnsafeTarget as refused:
                target = refused
            broken = threading.Event()
            count = min(share, len(queued))
            lanes += [(queued[lane::count], target, broken) for lane in range(count)]
        outcomes = {}
        for done in self.pool.map(self._lane, lanes):
            for outcome in done:
                outcomes[outcome.key] = outcome
        return [outcomes[message.key] for message in messages]

    def _lane(self, lane) -> list[Outcome]:
        queued, target, broken = lane
        done = []
        for message in queued:
            if broken.is_set():
                done.append(Outcome(message.key, None, NOT_SENT, 0, datetime.now(UTC)))
                continue
            outcome = self._post(message, target)
            if outcome.unreachable:
                broken.set()
            done.append(outcome)
        return done

    def _post(self, message: Message, target) -> Outcome:
        attempted_at = datetime.now(UTC)
        started = time.monotonic()
        if isinstance(target, targets.UnsafeTarget):
            return Outcome(message.key, None, f"Refused: {target}"[:ERROR_MAX], 0, attempted_at)
        timestamp = int(attempted_at.timestamp())
        headers = headers_for(secret=message.secret, message_id=message.message_id, timestamp=timestamp,
                              body=message.body)
        extensions = {}
        if target.host_header:
            headers["host"] = target.host_header
        if target.sni_hostname:
            extensions["sni_hostname"] = target.sni_hostname
        status, error, unreachable = None, "", False
        try:
            with self.client.stream("POST", target.url, content=message.body.encode(), headers=headers,
                                    extensions=extensions) as response:
                status = response.status_code
                try:  # drain a little of the answer so the connection can be reused; never much, never an error
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read > MAX_ANSWER_BYTES or time.monotonic() - started > self.timeout:
                            break
                except httpx.HTTPError:
                    pass
        except httpx.TimeoutException as exc:
            error, unreachable = f"Timed out ({type(exc).__name__}) after {self.timeout:g} s", True
        except httpx.ConnectError as exc:
            error, unreachable = f"ConnectError: {exc}", True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # anything else about this one request fails it, never the batch
            error = f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.monotonic() - started) * 1000)
        if not error and status is not None and not 200 <= status < 300:
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        return Outcome(message.key, status, error[:ERROR_MAX], duration_ms, attempted_at, unreachable)


_local = threading.local()


def process_sender() -> Sender:
    """The process's Sender (made on first use, after a worker's fork), so keep-alive connections last across tasks."""
    sender = getattr(_local, "sender", None)
    if sender is None:
        sender = _local.sender = Sender()
    return sender
