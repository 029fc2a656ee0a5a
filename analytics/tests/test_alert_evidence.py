"""An alert's page shows its evidence: the chart with the expected band, local times, links, earlier alerts."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.urls import reverse

from alerts import services
from alerts.evidence import evidence_provider_register
from alerts.models import Alert
from conftest import client_for
from customers.models import TransformerCondition
from customers.tests.factories import TransformerFactory
from meters.models import Reading
from meters.simulation.labelled import labelled_campus_build
from predictions.detection import anomalies_detect, baseline_train
from predictions.detection.handoff import anomalies_to_alerts
from predictions.models import Anomaly

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)  # 23:00 in Madrid, the test site's zone


def figure_of(body: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="fig-evidence">(.*?)</script>', body, re.S)
    assert found, "the page has no evidence figure"
    return dict(json.loads(found.group(1)))


def readings_around(meter: Any, start: dt.datetime, hours: int) -> None:
    Reading.objects.bulk_create(
        Reading(meter=meter, timestamp=start + dt.timedelta(minutes=15 * i), kwh=0.2 + (0.8 if 96 <= i < 104 else 0))
        for i in range(hours * 4)
    )


def raise_on_a(
    campus: Any, *, title: str = "Sustained excess on RM-A-101", at: dt.datetime = T0, **extra: Any
) -> Alert:
    return services.alert_raise(
        kind="anomaly",
        title=title,
        meter=campus.meter_a,
        score=0.9,
        dedupe_key=extra.pop("dedupe_key", f"anomaly:{title}:{at}"),
        event_start=at,
        event_end=at + dt.timedelta(hours=2),
        at=at + dt.timedelta(hours=2),
        **extra,
    )


def test_a_detected_incident_is_charted_against_the_baselines_expected_band_with_its_span_shaded(
    manager: Any,
) -> None:
    campus = labelled_campus_build(days=14, incident_days=7, seed=3, kinds=("sustained_excess",))
    baseline_train(end=campus.end - dt.timedelta(days=7))
    anomalies_detect(start=campus.end - dt.timedelta(days=7), end=campus.end, handoff=False)
    anomaly = Anomaly.objects.filter(kind="sustained_excess", status="open").select_related("meter").first()
    assert anomaly is not None
    anomalies_to_alerts(anomalies=[anomaly])
    alert = Alert.objects.get(meter=anomaly.meter)
    body = client_for(manager).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    figure = figure_of(body)
    names = [trace.get("name") for trace in figure["data"]]
    assert names[1:] == ["Expected band", "Expected", "Actual"]
    band = next(t for t in figure["data"] if t.get("name") == "Expected band")
    assert band["fill"] == "tonexty"
    assert any(v is not None and v >= 0 for v in band["y"])
    # The incident stands out of the band it is shaded in, and the chart reaches a day either side.
    local = anomaly.start.astimezone(campus.site.tz).replace(tzinfo=None)
    shapes = figure["layout"]["shapes"]
    assert [dt.datetime.fromisoformat(s["x0"]) for s in shapes] == [local]
    actual = next(t for t in figure["data"] if t.get("name") == "Actual")
    x = [dt.datetime.fromisoformat(v) for v in actual["x"]]
    assert min(x) <= local - dt.timedelta(days=1) + dt.timedelta(minutes=15)
    high = figure["data"][0]["y"]
    end = anomaly.end.astimezone(campus.site.tz).replace(tzinfo=None)
    inside = [(y, top) for when, y, top in zip(x, actual["y"], high, strict=True) if local <= when < end]
    assert any(y is not None and top is not None and y > top for y, top in inside)
    # Times in the site's zone with the year, duration, links to room and hostel (the meter: its room for a manager).
    start = anomaly.start.astimezone(campus.site.tz)
    assert f"{start:%a} {start.day} {start:%b %Y %H:%M}" in body
    assert "CET" in body or "CEST" in body
    assert f'href="{reverse("room-detail", args=[anomaly.room_id])}"' in body
    assert f'href="{reverse("hostel-detail", args=[anomaly.hostel_id])}"' in body


def test_the_page_says_when_in_local_time_with_the_year_and_how_long(campus: Any, warden_a: Any) -> None:
    readings_around(campus.meter_a, T0 - dt.timedelta(days=1), 72)
    alert = raise_on_a(campus)
    body = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "Mon 3 Mar 2025 23:00 \u2013 Tue 4 Mar 2025 01:00 CET" in body
    assert "Lasted</dt><dd>2 h</dd>" in body
    figure = figure_of(body)
    assert [t.get("name") for t in figure["data"]] == ["Actual"]
    assert "No expected band: no anomaly baseline is trained yet" in body
    assert figure["layout"]["shapes"][0]["x0"].startswith("2025-03-03T23:00")


def test_a_grouped_alert_shades_each_incident_and_sums_how_long_they_lasted(campus: Any, warden_a: Any) -> None:
    readings_around(campus.meter_a, T0 - dt.timedelta(days=1), 72)
    incidents = [
        Anomaly.objects.create(
            meter=campus.meter_a,
            hostel=campus.hostel_a,
            room=campus.room_a,
            kind="night_usage",
            start=T0 + dt.timedelta(hours=hours),
            end=T0 + dt.timedelta(hours=hours + 2),
            score=0.8,
            explanation="night",
            dedupe_key=f"night:{hours}",
        )
        for hours in (0, 5)
    ]
    anomalies_to_alerts(anomalies=incidents)
    alert = Alert.objects.get()
    body = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "4 h in 2 incidents" in body
    assert "Mon 3 Mar 2025 23:00 \u2013 Tue 4 Mar 2025 06:00 CET" in body
    shapes = figure_of(body)["layout"]["shapes"]
    assert [s["x0"][:16] for s in shapes] == ["2025-03-03T23:00", "2025-03-04T04:00"]
    assert [s["showlegend"] for s in shapes] == [True, False]


def test_links_go_to_the_room_hostel_and_meter_admin_for_admins_and_the_room_page_for_others(
    campus: Any, warden_a: Any, admin: Any
) -> None:
    alert = raise_on_a(campus)
    room = reverse("room-detail", args=[campus.room_a.pk])
    warden_page = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert f'<a href="{room}">RM-A-101</a>' in warden_page
    assert f'<a href="{room}">A-101</a>' in warden_page
    assert f'href="{reverse("hostel-detail", args=[campus.hostel_a.pk])}"' in warden_page
    assert "/admin/" not in warden_page
    admin_page = client_for(admin).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    change = reverse("admin:meters_meter_change", args=[campus.meter_a.pk])
    assert f'<a href="{change}">RM-A-101</a>' in admin_page


def test_earlier_alerts_on_the_same_meter_are_listed_with_status_and_verdict(campus: Any, warden_a: Any) -> None:
    old = raise_on_a(campus, title="Night load in A-101", at=T0 - dt.timedelta(days=10))
    services.alert_feedback(alert=old, user=warden_a, true_alarm=False)  # a false alarm resolves it
    services.alert_raise(kind="anomaly", title="Other meter", meter=campus.meter_b, at=T0 - dt.timedelta(days=2))
    alert = raise_on_a(campus)
    later = raise_on_a(campus, title="Later one", at=T0 + dt.timedelta(days=3))
    body = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    section = body.split('id="earlier-h"', 1)[1].split("</section>", 1)[0]
    assert f'<a href="{reverse("alert-detail", args=[old.pk])}">Night load in A-101</a>' in section
    assert "Resolved" in section
    assert "false alarm" in section
    assert "Other meter" not in section
    assert later.title not in section
    # On a phone the list is one card per alert (table.stack): status and verdict stay on screen, labelled.
    assert '<table class="stack">' in section
    assert 'data-label="Status">Resolved' in section
    assert 'data-label="Verdict">false alarm' in section


def test_a_warden_sees_no_earlier_alert_from_another_hostel_on_a_moved_meter(
    campus: Any, warden_a: Any, warden_b: Any
) -> None:
    # The meter served a room of hostel B before it moved to A-101: its alert there stays B's.
    before = raise_on_a(campus, title="When it was in B-101", at=T0 - dt.timedelta(days=20))
    Alert.objects.filter(pk=before.pk).update(hostel=campus.hostel_b, room=campus.room_b)
    alert = raise_on_a(campus)
    body = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "When it was in B-101" not in body
    assert client_for(warden_b).get(reverse("alert-detail", args=[alert.pk])).status_code == 404


def test_a_transformer_condition_alert_charts_the_transformers_readings(campus: Any, manager: Any) -> None:
    transformer = TransformerFactory.create(code="TX-9", capacity_kva=400)
    for hours, oil in ((-6, 71.0), (-3, 84.0), (0, 97.5)):
        TransformerCondition.objects.create(
            transformer=transformer, measured_at=T0 + dt.timedelta(hours=hours), top_oil_c=oil
        )
    alert = services.alert_raise(
        kind="transformer_condition",
        title="Transformer TX-9: top oil 97.5 °C",
        dedupe_key="transformer_condition:tx9",
        event_start=T0,
        source_payload={"transformer_id": transformer.pk},
        at=T0,
    )
    body = client_for(manager).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    figure = figure_of(body)
    assert figure["data"][0]["name"] == "Top oil °C"
    assert figure["data"][0]["y"] == [71.0, 84.0, 97.5]


def test_an_alert_without_any_series_says_plainly_why_there_is_no_chart(campus: Any, manager: Any) -> None:
    alert = services.alert_raise(kind="transformer_capacity", title="TX-9 forecast at 93%", dedupe_key="cap")
    body = client_for(manager).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert 'id="fig-evidence"' not in body
    assert "this is a forecast warning, not something measured" in body


def test_a_failing_evidence_provider_leaves_the_page_and_its_actions_working(campus: Any, warden_a: Any) -> None:
    from analytics.evidence import alert_evidence_build

    def broken(**_: Any) -> None:
        raise RuntimeError("boom")

    evidence_provider_register(name="analytics", provider=broken)
    try:
        alert = raise_on_a(campus)
        response = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk]))
    finally:
        evidence_provider_register(name="analytics", provider=alert_evidence_build)
    assert response.status_code == 200
    assert "The chart could not be drawn" in response.content.decode()
    assert "Acknowledge" in response.content.decode()


def test_detail_page_queries_do_not_grow_with_earlier_alerts_and_its_history(
    campus: Any, warden_a: Any, django_assert_max_num_queries: Any
) -> None:
    readings_around(campus.meter_a, T0 - dt.timedelta(days=1), 72)
    alert = raise_on_a(campus)
    client = client_for(warden_a)
    client.get(reverse("alert-detail", args=[alert.pk]))  # warm the session and user caches
    with django_assert_max_num_queries(16) as few:  # + the site's time zone
        client.get(reverse("alert-detail", args=[alert.pk]))
    for n in range(12):
        old = raise_on_a(campus, title=f"Old {n}", at=T0 - dt.timedelta(days=3 + 2 * n))
        services.alert_comment(alert=alert, user=warden_a, body=f"note {n}")
        services.alert_acknowledge(alert=old, user=warden_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert body.count("Old ") == 10
