"""Prometheus metrics of alerts: raised, delivered, and the live sockets open (config.metrics exports them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ALERTS_RAISED = Counter(
    "wattwatch_alerts_raised",
    "Alerts raised (not absorbed, not suppressed), by kind and severity.",
    ["kind", "severity"],
)
ALERT_DELIVERIES = Counter(
    "wattwatch_alert_deliveries",
    "Alert notifications attempted, by channel (email, webhook) and outcome.",
    ["channel", "outcome"],
)
# livesum: across processes, the sockets of the processes alive now.
OPEN_SOCKETS = Gauge("wattwatch_open_sockets", "Alert WebSockets open.", multiprocess_mode="livesum")
