"""Every prediction test writes model artifacts to its own directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def models_dir(settings: Any, tmp_path: Path) -> Path:
    settings.ML_MODELS_DIR = tmp_path / "ml_models"
    return settings.ML_MODELS_DIR
