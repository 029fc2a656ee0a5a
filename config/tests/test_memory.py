"""Web and worker processes freeze what they built at startup, so full collections skip it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import config.asgi
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects()),
                  "views_loaded": "analytics.views" in sys.modules}))
"""


def test_the_web_application_freezes_its_startup_objects_with_the_views_loaded() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["views_loaded"]  # imported before the freeze, not at the first request
    assert figures["frozen"] > 100_000
    assert figures["tracked"] < figures["frozen"] / 5  # what a full collection still walks
