"""Daily summaries: the alert events a person chose to hear about once a day, in one email and one push."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alerts.models import DailySummary, NotificationPreference, PushSubscription, SummaryEntry
from alerts.services.push import PushFailed, SubscriptionGone, webpush_send

logger = logging.getLogger(__name__)

SUMMARY_TASK = "alerts.tasks.daily_summary_deliver"


def _enqueue(summary_id: int) -> None:
    from celery import signature

    try:
        signature(SUMMARY_TASK, args=(summary_id,)).delay()
    except Exception:
        logger.exception("could not enqueue daily summary %s; the next run of the schedule retries", summary_id)


def daily_summaries_due(*, now: dt.datetime | None = None) -> int:
    """Make today's summary for each person whose summary time has come and who has events waiting.

    Run every few minutes by beat; a person gets at most one summary per local day (the key), and a
    summary that found nothing to say is not made.
    """
    now = now or timezone.now()
    made = 0
    for pref in NotificationPreference.objects.filter(daily_summary=True).select_related("user"):
        local = now.astimezone(pref.tz)
        if local.time().replace(tzinfo=None) < pref.summary_at:
            continue
        key = f"summary:{pref.user_id}:{local.date().isoformat()}"
        with transaction.atomic():
            if DailySummary.objects.filter(key=key).exists():
                continue
            waiting = SummaryEntry.objects.select_for_update().filter(user_id=pref.user_id, summary__isnull=True)
            ids = list(waiting.values_list("pk", flat=True))
            if not ids:
                continue
            summary = DailySummary.objects.create(key=key, recipient=pref.user, day=local.date())
            SummaryEntry.objects.filter(pk__in=ids).update(summary=summary)
            transaction.on_commit(partial(_enqueue, summary.pk))
            made += 1
    return made


def _lines(summary: DailySummary) -> list[dict[str, Any]]:
    """One line per alert (an alert raised and then escalated is one line, with its latest event)."""
    latest: dict[int, dict[str, Any]] = {}
    entries = summary.entries.select_related("alert__hostel", "alert__room", "event").order_by("created_at", "id")
    for entry in entries:
        alert = entry.alert
        latest[alert.pk] = {
            "alert": alert,
            "event": entry.event.get_action_display(),
            "url": settings.WATTWATCH_BASE_URL.rstrip("/") + f"/alerts/{alert.pk}/",
        }
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return sorted(latest.values(), key=lambda line: (order[line["alert"].severity], -line["alert"].pk))


def daily_summary_deliver(*, summary_id: int) -> dict[str, int]:
    """Send one summary: one email (if the person takes email) and one push per device (if they take push)."""
    summary = DailySummary.objects.select_related("recipient").get(pk=summary_id)
    person = summary.recipient
    pref = NotificationPreference.objects.filter(user=person).first()
    lines = _lines(summary)
    title = f"Wattwatch daily summary: {len(lines)} alert{'s' if len(lines) != 1 else ''}"
    sent = {"emails": 0, "pushes": 0}
    if summary.emailed_at is None and person.email and (pref is None or pref.email) and lines:
        context = {
            "summary": summary,
            "lines": lines,
            "title": title,
            "inbox": settings.WATTWATCH_BASE_URL.rstrip("/") + reverse("alert-inbox"),
        }
        send_mail(
            subject=title,
            message=render_to_string("alerts/email/daily_summary.txt", context),
            from_email=None,
            recipient_list=[person.email],
            html_message=render_to_string("alerts/email/daily_summary.html", context),
        )
        DailySummary.objects.filter(pk=summary.pk).update(emailed_at=timezone.now())
        sent["emails"] += 1
    if summary.pushed_at is None and (pref is None or pref.push) and lines:
        worst = lines[0]["alert"]
        payload = {
            "title": title,
            "body": f"Most severe: {worst.get_severity_display()}, {worst.title}"[:300],
            "url": reverse("alert-inbox"),
            "tag": f"summary-{summary.day.isoformat()}",
        }
        for subscription in PushSubscription.objects.filter(user=person):
            try:
                webpush_send(subscription=subscription, payload=payload)
                sent["pushes"] += 1
            except SubscriptionGone:
                continue
            except PushFailed as error:  # a summary is not retried per device: the email and the inbox have it
                logger.warning("daily summary %s not pushed to a device: %s", summary.key, error)
        DailySummary.objects.filter(pk=summary.pk).update(pushed_at=timezone.now())
    return sent
