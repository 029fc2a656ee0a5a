"""Slack and Microsoft Teams incoming webhooks beside the signed generic one, chosen per notification rule."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from alerts import services
from alerts.models import HistorySummary, NotificationRule, WebhookDelivery
from alerts.services.history import history_summary_deliver
from alerts.tests.test_notifications import Receiver

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Any:
    server = Receiver([])
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def raise_alert(campus: Any) -> Any:
    return services.alert_raise(
        kind="anomaly",
        title="Heater left on in A-101 <at night> & more",
        explanation="3.9 kWh overnight; expected 1.1 kWh.",
        meter=campus.meter_a,
        score=0.9,
        at=T0,
    )


def test_a_slack_rule_gets_a_block_kit_message_with_a_text_fallback(
    campus: Any, hook: Receiver, eager_celery: None, on_commit: Any
) -> None:
    NotificationRule.objects.create(webhook_url=hook.url, webhook_format="slack")
    with on_commit():
        alert = raise_alert(campus)
    headers, body = hook.requests[0]
    message = json.loads(body)
    assert set(message) == {"text", "blocks"}
    assert message["text"] == f"Alert #{alert.pk} raised: Heater left on in A-101 &lt;at night&gt; &amp; more"
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert message["blocks"][0]["text"]["type"] == "plain_text"
    assert message["blocks"][1]["text"] == {"type": "mrkdwn", "text": "3.9 kWh overnight; expected 1.1 kWh."}
    fields = [field["text"] for field in message["blocks"][2]["fields"]]
    assert "*Severity*\nHigh" in fields
    assert "*Hostel*\nHostel A" in fields
    assert "*Room*\nA-101" in fields
    link = message["blocks"][3]["elements"][0]["text"]
    assert link == f"<http://localhost:8000/alerts/{alert.pk}/|Open in Wattwatch>"
    assert "X-Wattwatch-Signature" not in headers  # a Slack URL is its own secret
    assert WebhookDelivery.objects.get().status == "sent"


def test_a_teams_rule_gets_an_adaptive_card(campus: Any, hook: Receiver, eager_celery: None, on_commit: Any) -> None:
    NotificationRule.objects.create(webhook_url=hook.url, webhook_format="teams", hostel=campus.hostel_a)
    with on_commit():
        alert = raise_alert(campus)
    message = json.loads(hook.requests[0][1])
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": f"Alert #{alert.pk} raised: Heater left on in A-101 <at night> & more",
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
    }
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Severity"] == "High"
    assert facts["Room"] == "A-101"
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Wattwatch", "url": f"http://localhost:8000/alerts/{alert.pk}/"}
    ]


def test_the_generic_webhook_still_needs_its_secret_and_chat_ones_do_not(campus: Any) -> None:
    with pytest.raises(ValidationError, match="needs a secret"):
        NotificationRule(webhook_url="https://hooks.example.org/x").clean()
    NotificationRule(webhook_url="https://hooks.slack.com/services/T/B/X", webhook_format="slack").clean()
    NotificationRule(webhook_url="https://example.webhook.office.com/x", webhook_format="teams").clean()


def test_a_history_summary_reaches_a_slack_rule_in_slacks_format(campus: Any, hook: Receiver) -> None:
    NotificationRule.objects.create(webhook_url=hook.url, webhook_format="slack")
    summary = HistorySummary.objects.create(
        key="scan-1:A",
        hostel=campus.hostel_a,
        title="History scan of Hostel A: 3 findings",
        findings=3,
        start=T0,
        end=T0,
    )
    assert history_summary_deliver(summary_id=summary.pk)["webhooks"] == 1
    message = json.loads(hook.requests[0][1])
    assert message["text"] == "History scan of Hostel A: 3 findings"
    assert message["blocks"][0]["type"] == "header"
