"""An alert from a finding: it follows the finding as detection extends it, and a closure is never urgent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from alerts.models import Alert
from predictions.detection import anomalies_detect
from predictions.tests.test_day_anomalies import TUESDAY, closed_hour, day_span, main_meter, working_hour, write_days

pytestmark = pytest.mark.django_db


def test_an_alert_follows_its_closure_as_the_next_day_extends_it(django_capture_on_commit_callbacks: Any) -> None:
    """Live, one day is judged at a time: Wednesday closed too extends Tuesday's finding, and its alert says so."""
    meter = main_meter()
    wednesday = TUESDAY + dt.timedelta(days=1)

    def profile(day: dt.date, hour: int) -> float:
        return closed_hour(hour) if day.weekday() >= 5 or day in (TUESDAY, wednesday) else working_hour(hour)

    write_days(meter, profile=profile)
    with django_capture_on_commit_callbacks(execute=True):
        anomalies_detect(meter_ids=[meter.id], start=day_span(TUESDAY)[0], end=day_span(TUESDAY)[1])
    alert = Alert.objects.get(source_payload__kind="closure_unexpected")
    assert (alert.event_start, alert.event_end) == day_span(TUESDAY)
    assert "Tuesday 29 Oct 2024 ran like a " in alert.explanation

    with django_capture_on_commit_callbacks(execute=True):
        anomalies_detect(meter_ids=[meter.id], start=day_span(wednesday)[0], end=day_span(wednesday)[1])

    assert Alert.objects.filter(source_payload__kind="closure_unexpected").count() == 1  # the same event
    alert.refresh_from_db()
    assert (alert.event_start, alert.event_end) == (day_span(TUESDAY)[0], day_span(wednesday)[1])
    assert "Tuesday 29 Oct to Wednesday 30 Oct 2024 ran like closed days" in alert.explanation
    assert alert.occurrences == 1  # nobody was told again


def test_a_sure_closure_is_at_most_a_medium_alert_and_a_sure_closed_day_left_on_keeps_its_severity(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A closed day wastes nothing: however closed-like (score near 1), its alert is not "critical" or "high"."""
    saturday = TUESDAY + dt.timedelta(days=4)

    def profile(day: dt.date, hour: int) -> float:
        if day == TUESDAY:
            return closed_hour(hour)
        return working_hour(hour) if day.weekday() < 5 or day == saturday else closed_hour(hour)

    meter = main_meter()
    write_days(meter, profile=profile)
    with django_capture_on_commit_callbacks(execute=True):
        anomalies_detect(meter_ids=[meter.id], start=day_span(TUESDAY)[0], end=day_span(saturday)[1])

    closure = Alert.objects.get(source_payload__kind="closure_unexpected")
    left_on = Alert.objects.get(source_payload__kind="closed_day_usage")
    assert (closure.score or 0) >= 0.95  # as sure as the default rules make "critical"
    assert closure.severity == "medium"
    assert (left_on.score or 0) >= 0.95
    assert left_on.severity == "critical"  # waste: its severity still follows its score and cost
