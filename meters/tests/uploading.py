"""Confirm a staged upload in a test and run its queued import as the imports worker would (eagerly)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client


def confirm(client: Client, data: dict[str, str], *, run: bool = True) -> Any:
    """POST the confirmation, run the import queued after commit (unless `run` is False), follow to the status page.

    A test's transaction never commits, so the on-commit callbacks are run here, with the Celery app
    eager (the task runs in this process, as the embedded imports lane runs it in the web process).
    """
    from config.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        start = len(connection.run_on_commit)
        response = client.post("/meters/upload/", data)
        callbacks = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
        if run:
            for entry in callbacks:
                entry[1]()  # (savepoints, callback, robust)
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before
    if response.status_code != 302:
        return response
    return client.get(response["Location"])
