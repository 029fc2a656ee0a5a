"""Turn a configuration error into one line on stderr instead of a traceback."""

from __future__ import annotations

import sys
from typing import Any

from config.env import ConfigError


def load_settings_or_exit() -> Any:
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - forces the settings module to load
    except ConfigError as error:
        sys.stderr.write(f"Configuration error: {error}\n")
        raise SystemExit(2) from None
    return settings
