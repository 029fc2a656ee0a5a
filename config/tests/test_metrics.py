"""/metrics: Prometheus text with HTTP, ingestion, alerts, Celery and backlog figures; internal network or token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import resolve
from prometheus_client.parser import text_string_to_metric_families

from alerts import services
from analytics.tasks import system_heartbeat
from conftest import Campus, client_for
from meters.ingest import readings_ingest


def scrape(client: Client | None = None, **headers: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_count_requests_readings_alerts_and_tasks(
    campus: Campus, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = scrape()
    assert client_for(manager).get(f"/api/v1/meters/{campus.meter_a.pk}/readings").status_code == 200
    result = readings_ingest(
        rows=[
            {"meter": "RM-A-101", "timestamp": "2025-03-01T00:00:00Z", "kwh": 0.3},
            {"meter": "RM-A-101", "timestamp": "2025-03-01T00:15:00Z", "kwh": -1},
        ],
        source="test",
    )
    assert (result.accepted, result.rejected) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):  # counted once committed
        services.alert_raise(kind="anomaly", title="A-101 night load", meter=campus.meter_a, score=0.9)
    system_heartbeat.apply()
    after = scrape()

    route = "/" + resolve(f"/api/v1/meters/{campus.meter_a.pk}/readings").route  # the pattern, not the path
    assert (
        value(after, "wattwatch_http_requests_total", method="GET", route=route, status="200")
        == value(before, "wattwatch_http_requests_total", method="GET", route=route, status="200") + 1
    )
    assert value(after, "wattwatch_http_request_duration_seconds_count", method="GET", route=route) >= 1
    assert (
        value(after, "wattwatch_readings_ingested_total", sender="trusted")
        - value(before, "wattwatch_readings_ingested_total", sender="trusted")
        == 1
    )
    assert (
        value(after, "wattwatch_readings_rejected_total", sender="trusted")
        - value(before, "wattwatch_readings_rejected_total", sender="trusted")
        == 1
    )
    raised = sum(v for (name, _labels), v in after.items() if name == "wattwatch_alerts_raised_total")
    assert raised - sum(v for (name, _labels), v in before.items() if name == "wattwatch_alerts_raised_total") == 1
    task = "analytics.tasks.system_heartbeat"
    assert value(after, "wattwatch_celery_task_duration_seconds_count", task=task, state="SUCCESS") >= 1
    for queue in ("live", "detection", "training", "imports"):  # every queue of config/queues.py
        assert ("wattwatch_celery_queue_length", (("queue", queue),)) in after
    assert ("wattwatch_open_sockets", ()) in after


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("peer", "forwarded", "allowed"),
    [
        ("127.0.0.1", None, True),
        ("10.1.2.3", None, True),
        ("172.18.0.5", "10.0.0.9", True),
        ("203.0.113.7", None, False),
        ("10.1.2.3", "203.0.113.7", False),  # relayed by an internal balancer from outside
        ("10.1.2.3", "10.0.0.2, 198.51.100.1", False),
    ],
)
def test_without_a_token_only_the_internal_network_gets_metrics(
    peer: str, forwarded: str | None, allowed: bool
) -> None:
    headers: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    response = Client().get("/metrics", **headers)
    assert response.status_code == (200 if allowed else 403)
    assert (b"wattwatch_http_requests_total" in response.content) is allowed


@pytest.mark.django_db
def test_with_a_token_only_its_bearer_gets_metrics(settings: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert Client().get("/metrics").status_code == 403  # even from the machine itself
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    public = Client().get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert public.status_code == 200
    assert b"wattwatch_readings_ingested_total" in public.content


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Any) -> None:
    """gunicorn's workers and Celery's pool each count in their own process; one scrape sums them."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    count = (
        "import django; django.setup(); from meters.metrics import READINGS_INGESTED; "
        "READINGS_INGESTED.labels(sender='gateway').inc({n})"
    )
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True, timeout=120)
    show = (
        "import django; django.setup(); from prometheus_client import generate_latest; "
        "from config.metrics import metrics_registry; print(generate_latest(metrics_registry()).decode())"
    )
    out = subprocess.run([sys.executable, "-c", show], env=env, check=True, timeout=120, capture_output=True, text=True)
    assert 'wattwatch_readings_ingested_total{sender="gateway"} 7.0' in out.stdout


async def test_requests_served_asynchronously_are_counted_too() -> None:
    """The web processes run Django under ASGI: the middleware's async path."""
    from django.test import AsyncClient

    client = AsyncClient()
    first = await client.get("/metrics")
    second = await client.get("/metrics")
    assert second.status_code == 200

    def served(body: bytes) -> float:
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == "wattwatch_http_requests_total" and sample.labels.get("route") == "/metrics":
                    return sample.value
        return 0.0

    assert served(second.content) == served(first.content) + 1


@pytest.mark.django_db
def test_the_grafana_dashboard_plots_only_metrics_that_are_served(campus: Campus) -> None:
    import json
    import re
    from pathlib import Path

    from django.conf import settings

    dashboard = json.loads((Path(settings.BASE_DIR) / "docs" / "grafana-dashboard.json").read_text())
    wanted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"wattwatch_[a-z_]+", target["expr"])
    }
    readings_ingest(rows=[{"meter": "RM-A-101", "timestamp": "2025-03-01T00:00:00Z", "kwh": -1}], source="test")
    services.alert_raise(kind="anomaly", title="A-101", meter=campus.meter_a, score=0.9)
    system_heartbeat.apply()
    scrape()  # a request, counted and timed
    served = {name for name, _labels in scrape()}
    # The detection backlog comes from Redis: without it the series is absent, as it should be.
    optional = (
        set() if settings.REDIS_URL else {"wattwatch_detection_backlog_sets", "wattwatch_detection_backlog_seconds"}
    )
    # Counted after commit, or on sends that need a mail server and a webhook: declared, maybe no sample yet.
    declared = {"wattwatch_alerts_raised_total", "wattwatch_alert_deliveries_total"}
    assert wanted - served - optional - declared == set()
    assert len(dashboard["panels"]) >= 9
