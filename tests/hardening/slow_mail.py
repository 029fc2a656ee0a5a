"""An email backend for the worker-kill test: the first send hangs (to be killed), later sends are kept."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        outbox = Path(os.environ["FAULT_OUTBOX"])
        started = outbox / "started"
        if not started.exists():
            started.write_text(str(os.getpid()))
            time.sleep(120)  # killed here by the test
        for message in email_messages:
            (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
