"""A scan of history older than the current baseline's weeks is judged by baselines that learned those weeks."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from meters.simulation.labelled import labelled_campus_build
from predictions.detection import baseline_train
from predictions.detection.history import history_scan_create, history_scan_step
from predictions.detection.history_eras import ERA_DAYS, eras_plan
from predictions.models import Anomaly, HistoryScan, ModelVersion, ScannedHour

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_history_older_than_the_current_baselines_weeks_is_cut_into_eras_newest_first() -> None:
    judged_from = T0 + 100 * DAY
    spans = eras_plan(start=T0, end=T0 + 135 * DAY, judged_from=judged_from)
    assert spans[0] == (judged_from - ERA_DAYS * DAY, judged_from)
    assert [b - a for a, b in spans[:-1]] == [ERA_DAYS * DAY] * (len(spans) - 1)
    assert spans[-1][0] == T0  # the oldest era reaches the scan's start
    assert all(later[0] == earlier[1] for later, earlier in itertools.pairwise(spans))
    # A remainder shorter than a week joins the era after it instead of getting a baseline of its own.
    short = eras_plan(start=judged_from - (ERA_DAYS + 3) * DAY, end=judged_from + DAY, judged_from=judged_from)
    assert short == [(judged_from - (ERA_DAYS + 3) * DAY, judged_from)]
    # History the current baseline learned needs no other judge.
    assert eras_plan(start=judged_from, end=judged_from + 30 * DAY, judged_from=judged_from) == []
    assert eras_plan(start=T0, end=T0 + 30 * DAY, judged_from=None) == []


@pytest.mark.django_db
def test_a_scan_judges_older_weeks_with_a_baseline_trained_up_to_a_week_after_them(
    django_capture_on_commit_callbacks: Any,
) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    campus = labelled_campus_build(
        seed=5, days=49, hostels=1, rooms_per_hostel=4, kinds=("sustained_excess",), start=today - 49 * DAY
    )
    current = baseline_train(end=campus.end)
    assert current.status == ModelVersion.Status.CURRENT
    meter_ids = [m.pk for m in campus.meters]
    scan, _ = history_scan_create(
        reason=HistoryScan.Reason.FIRST_RUN, meter_ids=meter_ids, start=campus.start, end=campus.end, key="first-run"
    )
    steps = []
    with django_capture_on_commit_callbacks(execute=False) as queued:  # driven here step by step, as queued
        steps.append(history_scan_step(scan_id=scan.pk, chunk=len(meter_ids)))
        # The current baseline's weeks are judged at once; the older era waits for a baseline of its own,
        # trained in a step of its own so that work queued meanwhile is not held behind the training.
        assert steps[0]["era_pending"]
        assert steps[0]["meters_done"] == 0
        found_first = Anomaly.objects.count()
        assert HistoryScan.objects.get(pk=scan.pk).findings == found_first
        steps.append(history_scan_step(scan_id=scan.pk, chunk=len(meter_ids), train=True))
        assert "era_trained" in steps[1]
        assert HistoryScan.objects.get(pk=scan.pk).meters_done == 0  # training judges nothing
        steps.append(history_scan_step(scan_id=scan.pk, chunk=len(meter_ids)))
    assert len(queued) >= 2  # each step queued the next
    scan.refresh_from_db()
    assert scan.status == "done"
    assert scan.findings == Anomaly.objects.count()  # the weeks judged twice were not counted twice
    (recent_start, recent_end, recent_version, _), (old_start, old_end, old_version, own) = scan.eras  # newest first
    assert (dt.datetime.fromisoformat(old_start), dt.datetime.fromisoformat(recent_end)) == (campus.start, campus.end)
    assert old_end == recent_start
    assert recent_version is None  # the current baseline judges the weeks it learned
    assert own
    era = ModelVersion.objects.get(pk=old_version)
    assert era.status == ModelVersion.Status.CANDIDATE  # never made current
    assert era.note.startswith("Judges history from ")
    # Once the scan has ended nothing will load its era baseline again: the file goes, the row and metrics stay.
    assert era.artifact == ""
    assert era.note.endswith(f"Artifact removed when history scan {scan.pk} ended.")
    assert era.metrics
    assert not list(Path(settings.ML_MODELS_DIR).glob(f"anomaly-baseline-v{era.pk}.*"))
    assert (Path(settings.ML_MODELS_DIR) / current.artifact).exists()
    assert era.train_end is not None
    assert abs(era.train_end - (dt.datetime.fromisoformat(old_end) + 7 * DAY)) <= DAY
    assert ModelVersion.objects.get(pk=current.pk).status == ModelVersion.Status.CURRENT
    cut = dt.datetime.fromisoformat(old_end)
    # Every hour scanned names the baseline that judged it: the era's before the cut, the current one after.
    judged = ScannedHour.objects.filter(meter_id__in=meter_ids)
    # (The day before the cut is the next slice's context: scanned again, by the current baseline.)
    assert set(judged.filter(hour__lt=cut - DAY).values_list("model_version", flat=True)) == {era.pk}
    assert set(judged.filter(hour__gte=cut).values_list("model_version", flat=True)) == {current.pk}
    assert judged.filter(hour__lt=campus.start + DAY).exists()
    for anomaly in Anomaly.objects.exclude(start__gte=cut - DAY, start__lt=cut):  # and so does every finding
        assert anomaly.model_version_id == (era.pk if anomaly.start < cut else current.pk), anomaly
