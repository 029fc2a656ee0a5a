from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config.celery import app


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run tasks in the calling thread, as the worker would, so a test sees their effect."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the after-commit callbacks (pushes, task enqueues) of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
