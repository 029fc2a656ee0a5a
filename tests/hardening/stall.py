"""Loaded by a Celery worker that a fault test kills: one call of a chosen function stalls until the kill.

`FAULT_STALL_TARGET` ("package.module:function") names the function, `FAULT_STALL_CALL` which call
stalls (1 = the first), `FAULT_STALL_MARKER` a file written just before stalling. A later worker finds
the marker and runs the function normally, as a redelivered task would.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path
from typing import Any

from celery.signals import task_prerun

_installed = False


def _install(**_: Any) -> None:
    """Patch the target once Django is set up (at the first task), before that task runs."""
    global _installed
    if _installed:
        return
    _installed = True
    module_name, name = os.environ["FAULT_STALL_TARGET"].split(":")
    marker = Path(os.environ["FAULT_STALL_MARKER"])
    stall_at = int(os.environ.get("FAULT_STALL_CALL", "1"))
    module = importlib.import_module(module_name)
    original = getattr(module, name)
    calls = {"n": 0}

    @functools.wraps(original)
    def stalling(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == stall_at and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(300)  # killed here by the test
        return original(*args, **kwargs)

    setattr(module, name, stalling)


task_prerun.connect(_install, weak=False)
