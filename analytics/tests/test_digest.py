"""The weekly digest: each user's scope, the unsubscribe link, once a week on Monday morning local time."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.test import Client

from alerts.services import alert_raise
from analytics.digest import digest_render, unsubscribe_token
from analytics.models import DigestSubscription
from analytics.selectors.digest import digest_for, savings_so_far_for
from analytics.services import digest_send, digests_send_due
from analytics.tests.insight_data import DAY_KWH, load, occupy, priced

# Monday 7 December 2026, 07:30 in Madrid (UTC+1 in winter).
MONDAY_MORNING = dt.datetime(2026, 12, 7, 6, 30, tzinfo=dt.UTC)
LAST_MONDAY = dt.date(2026, 11, 30)


@pytest.fixture
def week(campus: Any, manager: Any, warden_a: Any) -> Any:
    priced(campus.meter_a)
    priced(campus.meter_b)
    occupy(campus.room_a, 4)
    occupy(campus.room_b, 2)
    start = LAST_MONDAY - dt.timedelta(days=28)
    # Hostel A: 20 % above its usual last week; Hostel B: as usual.
    load(campus.meter_a, start=start, days=35, scale=lambda day: 1.2 if day >= LAST_MONDAY else 1.0)
    load(campus.meter_b, start=start, days=35)
    alert_raise(kind="manual", title="Fridge left open in B", hostel=campus.hostel_b)
    alert_raise(kind="manual", title="Heater on in A", hostel=campus.hostel_a)
    for user in (manager, warden_a):
        user.email = f"{user.username}@example.org"
        user.save()
    return campus


@pytest.mark.django_db
def test_wardens_digest_holds_their_hostel_only(week: Any, warden_a: Any) -> None:
    digest = digest_for(user=warden_a, now=MONDAY_MORNING)
    assert (digest.week_start, digest.week_end) == (LAST_MONDAY, LAST_MONDAY + dt.timedelta(days=6))
    assert [h.name for h in digest.hostels] == ["Hostel A"]
    assert digest.kwh == pytest.approx(DAY_KWH * 7 * 1.2)
    assert digest.change == pytest.approx(0.2)
    assert digest.cost == pytest.approx(DAY_KWH * 7 * 1.2 * 0.2)
    assert [a.title for a in digest.alerts] == ["Heater on in A"]
    assert all(o.hostel == "Hostel A" for o in digest.opportunities)
    _, text, html = digest_render(user=warden_a, now=MONDAY_MORNING)
    assert "Hostel B" not in text
    assert "Fridge" not in text
    assert "Hostel B" not in html
    assert "+20 % against the usual" in text
    assert "No interventions logged yet." in text


@pytest.mark.django_db
def test_managers_digest_holds_every_hostel_and_the_top_opportunities(week: Any, manager: Any) -> None:
    digest = digest_for(user=manager, now=MONDAY_MORNING)
    assert [h.name for h in digest.hostels] == ["Hostel A", "Hostel B"]
    assert digest.open_alerts == 2
    assert len(digest.opportunities) <= 3
    costs = [o.cost_per_year or 0 for o in digest.opportunities]
    assert costs == sorted(costs, reverse=True)
    assert [o.title for o in digest.opportunities[:2]] == [
        "Hostel A rose 20% week on week (normalized for occupied beds): about €533 a year",
        "Hostel B's night baseload is 100% above Hostel A's per bed: about €438 a year",  # 2 beds using what 4 use
    ]


@pytest.mark.django_db
def test_savings_so_far_is_an_empty_hook_until_interventions_exist(week: Any, manager: Any) -> None:
    assert savings_so_far_for(user=manager) == []


@pytest.mark.django_db
def test_send_digest_dry_run_prints_it_and_sends_nothing(week: Any) -> None:
    out = StringIO()
    call_command("send_digest", "--dry-run", "--user", "warden_a", stdout=out)
    text = out.getvalue()
    assert "Subject: Wattwatch weekly: Hostel A" in text
    assert "Unsubscribe from this weekly email: http" in text
    assert mail.outbox == []
    with pytest.raises(CommandError, match="no active user named 'nobody_here'"):
        call_command("send_digest", "--dry-run", "--user", "nobody_here")


@pytest.mark.django_db
def test_digest_is_sent_on_monday_morning_local_time_once(week: Any, manager: Any, warden_a: Any) -> None:
    assert digests_send_due(now=MONDAY_MORNING - dt.timedelta(hours=1)) == 0  # 06:30 in Madrid
    assert digests_send_due(now=MONDAY_MORNING) == 2
    assert digests_send_due(now=MONDAY_MORNING + dt.timedelta(minutes=20)) == 0  # once a week
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@example.org", "warden_a@example.org"]
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.alternatives  # HTML beside the text


@pytest.mark.django_db
def test_unsubscribe_link_stops_the_digest(week: Any, warden_a: Any) -> None:
    url = f"/digest/unsubscribe/{unsubscribe_token(user=warden_a)}/"
    client = Client()
    assert "Stop the weekly digest" in client.get(url).content.decode()
    assert client.post(url).status_code == 200
    assert DigestSubscription.objects.get(user=warden_a).subscribed is False
    assert digest_send(user=warden_a, now=MONDAY_MORNING) is False
    assert client.get("/digest/unsubscribe/3:forged:signature/").status_code == 404


@pytest.mark.django_db
def test_savings_so_far_lists_the_measured_interventions_in_the_users_scope(
    week: Any, manager: Any, warden_a: Any
) -> None:
    from analytics.models import Intervention

    measured = {"savings_kwh": 1234.0, "savings_fraction": 0.12, "fraction_low": 0.08, "fraction_high": 0.16}
    Intervention.objects.create(title="LED corridors", hostel=week.hostel_a, start=dt.date(2026, 10, 1), **measured)
    Intervention.objects.create(title="Boiler timer", hostel=week.hostel_b, start=dt.date(2026, 10, 5), **measured)
    Intervention.objects.create(title="Not measured yet", hostel=week.hostel_a, start=dt.date(2026, 11, 1))
    assert savings_so_far_for(user=warden_a) == [
        "LED corridors, hostel Hostel A, since 01 Oct 2026: 1,234 kWh saved, +12 % of the baseline "
        "(90 % interval 8 to 16 %)"
    ]
    assert [line.split(",")[0] for line in savings_so_far_for(user=manager)] == ["Boiler timer", "LED corridors"]
    _, text, _ = digest_render(user=warden_a, now=MONDAY_MORNING)
    assert "LED corridors" in text
    assert "Boiler timer" not in text
