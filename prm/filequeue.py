"""Celery without Redis: kombu's filesystem transport, for the embedded default (``make run`` with no ``REDIS_URL``).

Decisions:
- A real worker and a real beat (Procfile.dev, started by ``make run``), not eager tasks in the web process: a task
  then runs the way it does in production — after commit, in another process, on the beat's schedule — so "a
  reminder due in two minutes reaches the bell and the mailbox" works on a laptop with nothing but Python installed.
- kombu's filesystem transport is part of kombu (Celery's own messaging library), so there is nothing to install or
  start: a message is a JSON file in ``queue/``; the worker claims it by moving it to ``processed/`` (a rename in
  the same folder tree, so two consumers can't both take it) and reads it there. Sending is a file write, so the web
  and ``manage.py`` commands never wait on a broker, and messages sent while no worker runs wait for the next one.
- Results: Celery's file result store in ``results/`` (``AsyncResult.get()`` works, e.g. ``prm.ping``); beat's
  built-in ``celery.backend_cleanup`` deletes results older than ``result_expires`` (a day) every night.
- Processed messages are kept in ``processed/`` (what ran, for a developer to look at) and pruned by ``make run``.
- One worker process (``--pool solo``): the transport polls its folder once a second, which is plenty for one
  developer. Production uses Redis (``REDIS_URL``) and as many workers as it needs.
"""

from pathlib import Path

FOLDERS = ("queue", "processed", "control", "results")


def celery_settings(folder: Path) -> dict:
    """Celery's broker URL, its transport options and the result store, all under ``folder`` (created here).

    Every process of one checkout (web, worker, beat, ``manage.py``) must use the same ``folder``.
    """
    for name in FOLDERS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://localhost/",  # the host is unused; naming it spares kombu's "No hostname" warning
        "broker_transport_options": {
            # A producer writes to data_folder_out and a consumer reads data_folder_in: the same folder for both.
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "store_processed": True,
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # fanout bindings (the worker's remote-control queue)
        },
        "result_backend": f"file://{folder / 'results'}",
    }
