"""Every prediction test writes model artifacts to its own directory and starts with no model in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def models_dir(settings: Any, tmp_path: Path) -> Path:
    settings.ML_MODELS_DIR = tmp_path / "ml_models"
    return settings.ML_MODELS_DIR


@pytest.fixture(autouse=True)
def no_model_from_another_test() -> None:
    """The process keeps the current baseline and a scan's era baseline by their versions' ids, and a rolled-back
    test's ids come round again (SQLite; in production a version's row is never deleted, so its id is never
    reused): a test must not detect with a model another test trained."""
    from predictions.detection import baselines, history_eras

    baselines._loaded.clear()
    history_eras._era_models.clear()


@pytest.fixture
def eager(settings: Any) -> Iterator[None]:
    """Tasks run in the calling thread, as the worker would run them (so a scan waits for no later batch)."""
    from config.celery import app

    settings.HISTORY_SCAN_QUIET_SECONDS = 0
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
