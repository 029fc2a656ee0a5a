"""The evidence an alert's page shows, supplied by the apps above `alerts` through a registry.

`alerts` may not import `predictions` or `analytics`, yet an alert's evidence (its meter's
readings against the baseline's expected band) is theirs. An upper app registers one provider in
its `AppConfig.ready`; the detail view asks `alert_evidence`, so every import still points down.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alerts.models import Alert

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    """A chart (Plotly figure JSON, or None with `note` saying why) and the event span it shows."""

    figure_json: str | None
    note: str = ""
    start: dt.datetime | None = None  # when the provider knows the event span better than the alert
    end: dt.datetime | None = None
    caption: str = ""  # what the chart shows, under it
    spans: tuple[tuple[dt.datetime, dt.datetime], ...] = ()  # the incidents a grouped alert holds


EvidenceProvider = Callable[..., Evidence | None]
_providers: dict[str, EvidenceProvider] = {}


def evidence_provider_register(*, name: str, provider: EvidenceProvider) -> None:
    """Register (or replace, so a reload is harmless) a provider called as provider(alert=..., user=...)."""
    _providers[name] = provider


def alert_evidence(*, alert: Alert, user: Any) -> Evidence:
    """The first provider's answer for this alert; a plain note when none knows it."""
    for name, provider in _providers.items():
        try:
            found = provider(alert=alert, user=user)
        except Exception:
            # Evidence is secondary: a failing chart must not take the alert's page (and its actions) down.
            logger.exception("evidence provider %s failed for alert %s", name, alert.pk)
            return Evidence(figure_json=None, note="The chart could not be drawn; the error is in the server log.")
        if found is not None:
            return found
    return Evidence(figure_json=None, note="No chart: nothing in Wattwatch draws evidence for this kind of alert.")
