"""Findings of a scan of stored history: one summary per scan and hostel, not a message per finding.

Alerts found in history are raised with `alert_raise(history=True)` (stored, listed as found in
history, never pushed, emailed or escalated one by one). The scan then calls `history_summary_record`
once per hostel: one row shown in the inbox, one live event, and after commit one email per person
who would have been told and one signed webhook per rule.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from functools import partial
from typing import Any

from celery import signature
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alerts.models import HistorySummary, NotificationRule
from alerts.realtime import HistoryScannedEvent, broadcast
from alerts.services.chat import chat_message
from alerts.services.notifications import _managers, webhook_headers
from meters.models import Hostel

logger = logging.getLogger(__name__)


def history_summary_title(*, hostel_name: str, findings: int, start: dt.datetime, end: dt.datetime) -> str:
    """ "History scan of Hostel A: 23 findings in the last 120 days" (or "from 1 Jan 2025 to 31 Dec 2025")."""
    plural = "finding" if findings == 1 else "findings"
    if timezone.now() - end < dt.timedelta(days=1):
        span = f"in the last {max(round((end - start).total_seconds() / 86400), 1)} days"
    else:
        span = f"from {start:%-d %b %Y} to {end:%-d %b %Y}"
    return f"History scan of {hostel_name}: {findings} {plural} {span}"


def history_summary_record(
    *, key: str, hostel_id: int | None, findings: int, start: dt.datetime, end: dt.datetime
) -> HistorySummary | None:
    """Record one scan's summary for one hostel and tell people once; None when it was recorded already."""
    hostel = Hostel.objects.filter(pk=hostel_id).first() if hostel_id else None
    title = history_summary_title(
        hostel_name=hostel.name if hostel else "the campus", findings=findings, start=start, end=end
    )
    summary, created = HistorySummary.objects.get_or_create(
        key=key, defaults={"hostel": hostel, "title": title, "findings": findings, "start": start, "end": end}
    )
    if not created:
        return None
    event: HistoryScannedEvent = {
        "type": "history.scanned",
        "id": summary.pk,
        "hostel_id": hostel.pk if hostel else None,
        "hostel": hostel.name if hostel else None,
        "title": title,
        "findings": findings,
        "at": summary.created_at.isoformat(),
        "url": reverse("alert-inbox") + (f"?hostel={hostel.pk}" if hostel else ""),
    }
    broadcast(event)
    if findings:
        transaction.on_commit(partial(_enqueue, SUMMARY_TASK, summary.pk))
    return summary


SUMMARY_TASK = "alerts.tasks.history_summary_deliver"


def _enqueue(task: str, summary_id: int) -> None:
    """Queue the delivery by task name (alerts.tasks imports these services)."""
    try:
        signature(task, args=(summary_id,)).delay()
    except Exception:
        logger.exception("could not enqueue the delivery of history summary %s", summary_id)


def _email_wanted(*, user: Any, hostel_id: int | None) -> bool:
    """The user's rule for the hostel wins over their rule for all hostels; no rule means email."""
    rules = NotificationRule.objects.filter(user=user, active=True).filter(
        Q(hostel__isnull=True) | Q(hostel_id=hostel_id)
    )
    rule = sorted(rules, key=lambda r: r.hostel_id is None)[0] if rules else None
    return rule is None or rule.email


def history_summary_deliver(*, summary_id: int) -> dict[str, int]:
    """One email per person who would hear of the hostel's alerts, one signed webhook per rule; once each."""
    summary = HistorySummary.objects.select_related("hostel").get(pk=summary_id)
    done = set(summary.delivered_to)
    url = settings.WATTWATCH_BASE_URL.rstrip("/") + reverse("alert-inbox")
    body = (
        f"{summary.title}.\n\nThese were found in readings already stored, so they were not sent one by one. "
        f"They are in the inbox, marked as found in history:\n{url}\n"
    )
    sent = {"emails": 0, "webhooks": 0}
    # Who hears of this hostel's alerts: its wardens, else the facility managers.
    wardens = list(summary.hostel.wardens.filter(is_active=True).order_by("pk")) if summary.hostel else []
    for person in wardens or _managers():
        tag = f"email:{person.pk}"
        if tag in done or not person.email or not _email_wanted(user=person, hostel_id=summary.hostel_id):
            continue
        send_mail(subject=f"[Wattwatch] {summary.title}", message=body, from_email=None, recipient_list=[person.email])
        done.add(tag)
        sent["emails"] += 1
        HistorySummary.objects.filter(pk=summary.pk).update(delivered_to=sorted(done))
    rules = NotificationRule.objects.filter(user__isnull=True, active=True).exclude(webhook_url="")
    for rule in rules.filter(Q(hostel__isnull=True) | Q(hostel_id=summary.hostel_id)):
        tag = f"webhook:{rule.pk}"
        if tag in done:
            continue
        payload: dict[str, Any] = {
            "event": "history_scanned",
            "summary_id": summary.pk,
            "hostel_id": summary.hostel_id,
            "title": summary.title,
            "findings": summary.findings,
            "start": summary.start.isoformat(),
            "end": summary.end.isoformat(),
        }
        if rule.webhook_format != NotificationRule.Format.GENERIC:
            payload = chat_message(
                style=rule.webhook_format,
                title=summary.title,
                text="Found in readings already stored, so not sent one by one; they are in the inbox.",
                url=url,
                facts=[("Findings", str(summary.findings))],
            )
        if _post(rule=rule, payload=payload, key=f"history:{summary.pk}:{rule.pk}"):
            done.add(tag)
            sent["webhooks"] += 1
            HistorySummary.objects.filter(pk=summary.pk).update(delivered_to=sorted(done))
    return sent


def _post(*, rule: NotificationRule, payload: dict[str, Any], key: str, timeout: float = 10.0) -> bool:
    """POST a signed summary; a failure is logged (the alerts themselves are in the inbox)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - admins configure http(s) URLs only (URLField)
        rule.webhook_url,
        data=body,
        method="POST",
        headers=webhook_headers(rule=rule, body=body, key=key),
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError) as error:
        logger.warning("history summary webhook %s failed: %r", rule.webhook_url, error)
        return False
