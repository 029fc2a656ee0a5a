"""Emails (templated HTML and text) and signed webhooks with retries, sent by tasks after commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail

from alerts import services
from alerts.models import EmailDelivery, NotificationRule, WebhookDelivery
from alerts.tasks import alert_email_send, webhook_deliver

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


class Receiver:
    """A local webhook endpoint answering with a scripted list of status codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/wattwatch"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver([500, 200])
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def raise_alert(campus: Any, **extra: Any) -> Any:
    return services.alert_raise(
        kind="anomaly",
        title="Heater left on in A-101",
        explanation="3.9 kWh overnight; expected 1.1 kWh.",
        meter=campus.meter_a,
        score=0.9,
        at=T0,
        **extra,
    )


def test_the_wardens_of_the_hostel_get_an_html_and_text_email(
    campus: Any, warden_a: Any, warden_b: Any, eager_celery: None, on_commit: Any
) -> None:
    warden_a.email = "a@example.org"
    warden_a.save()
    warden_b.email = "b@example.org"
    warden_b.save()
    with on_commit():
        alert = raise_alert(campus)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@example.org"]
    assert message.subject == "[Wattwatch High] Heater left on in A-101 · Hostel A"
    assert "3.9 kWh overnight" in message.body
    assert f"/alerts/{alert.pk}/" in message.body
    html, mime = message.alternatives[0]  # type: ignore[attr-defined]
    assert mime == "text/html"
    assert "<h1" in html
    assert "Heater left on in A-101" in html
    assert EmailDelivery.objects.get().status == "sent"


def test_a_redelivered_email_task_does_not_send_twice(
    campus: Any, warden_a: Any, eager_celery: None, on_commit: Any
) -> None:
    warden_a.email = "a@example.org"
    warden_a.save()
    with on_commit():
        raise_alert(campus)
    delivery = EmailDelivery.objects.get()
    assert alert_email_send.delay(delivery.pk).get() == "already sent"
    assert len(mail.outbox) == 1


def test_a_warden_who_turned_email_off_for_low_severities_gets_only_serious_ones(
    campus: Any, warden_a: Any, eager_celery: None, on_commit: Any
) -> None:
    warden_a.email = "a@example.org"
    warden_a.save()
    NotificationRule.objects.create(user=warden_a, min_severity="critical")
    with on_commit():
        raise_alert(campus)
    assert mail.outbox == []


def test_escalation_emails_the_facility_managers(
    campus: Any, warden_a: Any, manager: Any, eager_celery: None, on_commit: Any
) -> None:
    manager.email = "fm@example.org"
    manager.save()
    with on_commit():
        raise_alert(campus)
    with on_commit():
        assert services.alerts_escalate_due(now=T0 + dt.timedelta(hours=1)) == 1
    assert [m.to for m in mail.outbox] == [["fm@example.org"]]
    assert "Escalated" in mail.outbox[0].subject
    assert "not acknowledged in time" in mail.outbox[0].body


def test_webhook_gets_a_valid_signature_and_a_retry_after_a_failure(
    campus: Any, receiver: Receiver, eager_celery: None, on_commit: Any
) -> None:
    NotificationRule.objects.create(hostel=campus.hostel_a, webhook_url=receiver.url, webhook_secret="s3cret")
    with on_commit():
        alert = raise_alert(campus)
    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Wattwatch-Signature"] == expected
        assert headers["X-Wattwatch-Timestamp"].isdigit()
        assert headers["Content-Type"] == "application/json"
    payload = json.loads(receiver.requests[-1][1])
    assert payload["event"] == "raised"
    assert payload["alert"]["id"] == alert.pk
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 2, 200)
    assert delivery.last_error == "HTTP 500 Internal Server Error"


def test_webhook_failures_are_recorded_and_a_sent_delivery_is_not_resent(campus: Any, receiver: Receiver) -> None:
    NotificationRule.objects.create(webhook_url=receiver.url, webhook_secret="s3cret")
    raise_alert(campus)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(services.WebhookFailed):
        services.webhook_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 500)
    assert services.webhook_delivery_send(delivery_id=delivery.pk) == "sent"
    assert services.webhook_delivery_send(delivery_id=delivery.pk) == "already sent"
    assert len(receiver.requests) == 2


def test_webhook_task_retries_with_exponential_backoff() -> None:
    assert getattr(webhook_deliver, "autoretry_for", None) == (services.WebhookFailed,)
    assert getattr(webhook_deliver, "retry_backoff", 0)
    assert (webhook_deliver.max_retries or 0) >= 3


def test_a_webhook_of_another_hostel_hears_nothing(campus: Any, receiver: Receiver) -> None:
    NotificationRule.objects.create(hostel=campus.hostel_b, webhook_url=receiver.url, webhook_secret="s3cret")
    raise_alert(campus)
    assert not WebhookDelivery.objects.exists()
