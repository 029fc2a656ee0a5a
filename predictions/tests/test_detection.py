"""Detection end to end on a small synthetic campus with one injected incident of each kind."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from meters.models import Meter, Reading
from meters.simulation.labelled import LabelledCampus, labelled_campus_build
from predictions.detection import anomalies_detect, baseline_current, baseline_train, detector_feedback_record
from predictions.ml.anomaly import AnomalyBaseline
from predictions.models import Anomaly, MeterBaseline, ModelVersion

pytestmark = pytest.mark.django_db


def _campus(**kwargs: Any) -> LabelledCampus:
    return labelled_campus_build(days=kwargs.pop("days", 14), incident_days=kwargs.pop("incident_days", 7), **kwargs)


def _train(campus: LabelledCampus) -> ModelVersion:
    """Train on the history before the last week, then detect in that week, as in production."""
    return baseline_train(end=campus.end - dt.timedelta(days=7))


def _detect(campus: LabelledCampus, **kwargs: Any) -> Any:
    return anomalies_detect(start=campus.end - dt.timedelta(days=7), end=campus.end, handoff=False, **kwargs)


def _matches(anomaly: Anomaly, incident: Any, campus: LabelledCampus) -> bool:
    mains = {m.hostel_id: m.id for m in campus.meters if m.kind == Meter.Kind.HOSTEL_MAIN}
    same = anomaly.meter_id == incident.meter_id or (
        incident.meter.kind == Meter.Kind.ROOM and anomaly.meter_id == mains.get(incident.meter.hostel_id)
    )
    return same and anomaly.start < incident.end and incident.start < anomaly.end


def test_each_anomaly_kind_is_found_on_a_small_simulated_campus() -> None:
    campus = _campus(seed=3)
    _train(campus)
    _detect(campus)
    anomalies = list(Anomaly.objects.exclude(status=Anomaly.Status.MUTED))
    missed = [i.kind for i in campus.incidents if not any(_matches(a, i, campus) for a in anomalies)]
    assert missed == []
    found_kinds = {a.kind for a in anomalies}
    for kind in ("dead_meter", "flat_line", "voltage_sag", "voltage_swell", "low_power_factor", "main_imbalance"):
        assert kind in found_kinds
    false_alarms = [a for a in anomalies if not any(_matches(a, i, campus) for i in campus.incidents)]
    assert len(false_alarms) <= 1


def test_nothing_is_raised_on_a_clean_campus() -> None:
    campus = _campus(seed=4, kinds=())
    _train(campus)
    result = _detect(campus)
    assert Anomaly.objects.exclude(status=Anomaly.Status.MUTED).count() <= 1
    assert result.readings > 0


def test_running_detection_twice_creates_no_duplicate_anomalies() -> None:
    campus = _campus(seed=3, kinds=("sustained_excess", "voltage_sag", "dead_meter"))
    _train(campus)
    first = _detect(campus)
    count = Anomaly.objects.count()
    second = _detect(campus)
    assert count >= 3
    assert Anomaly.objects.count() == count
    assert second.created == []
    assert sorted(second.updated) == sorted(first.created)


def test_streaming_runs_over_consecutive_batches_extend_one_anomaly() -> None:
    campus = _campus(seed=3, kinds=("sustained_excess",))
    _train(campus)
    incident = campus.incidents[0]
    middle = incident.start + (incident.end - incident.start) / 2
    anomalies_detect(
        meter_ids=[incident.meter_id], start=incident.start - dt.timedelta(hours=1), end=middle, handoff=False
    )
    anomalies_detect(
        meter_ids=[incident.meter_id], start=middle, end=incident.end + dt.timedelta(hours=1), handoff=False
    )
    rows = list(Anomaly.objects.filter(meter_id=incident.meter_id))
    assert len(rows) == 1
    assert rows[0].start <= incident.start + dt.timedelta(minutes=30)
    assert rows[0].end >= incident.end


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_detection_runs_never_duplicate_an_anomaly() -> None:
    campus = _campus(seed=3, kinds=("sustained_excess", "flat_line", "voltage_swell"))
    _train(campus)

    def run(_: int) -> int:
        try:
            return len(_detect(campus).created)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        created = sum(pool.map(run, range(3)))
    keys = list(Anomaly.objects.values_list("meter_id", "kind", "start"))
    assert len(keys) == len(set(keys)) == created


def test_an_unfit_baseline_mutes_its_consumption_alerts_but_not_its_meter_faults() -> None:
    campus = _campus(seed=3, kinds=("sustained_excess",))
    _train(campus)
    incident = campus.incidents[0]
    MeterBaseline.objects.filter(meter_id=incident.meter_id).update(fit=False)
    handed: list[Any] = []
    from predictions.detection.handoff import anomalies_to_alerts

    _detect(campus)
    rows = Anomaly.objects.filter(meter_id=incident.meter_id, start__lt=incident.end, end__gt=incident.start)
    assert rows.exists()
    assert all(a.status == Anomaly.Status.MUTED for a in rows)
    assert anomalies_to_alerts(anomalies=rows, raise_alert=lambda **kw: handed.append(kw)) == 0


def test_missing_or_incompatible_artifacts_trigger_retraining_not_a_crash(models_dir: Any) -> None:
    _campus(seed=5, kinds=(), days=6)
    first = baseline_train()
    assert first.status == ModelVersion.Status.CURRENT
    from predictions.detection import baselines

    baselines._loaded.clear()
    (models_dir / first.artifact).write_bytes(b"not a model")
    model, version = baseline_current() or (None, None)
    assert isinstance(model, AnomalyBaseline)
    assert version is not None
    assert version.pk != first.pk
    baselines._loaded.clear()
    (models_dir / version.artifact).unlink()
    again = baseline_current()
    assert again is not None
    assert again[1].pk not in (first.pk, version.pk)


def test_a_meter_with_two_days_of_history_gets_a_fallback_baseline() -> None:
    campus = _campus(seed=6, kinds=(), days=10)
    newcomer = campus.meters[1]
    Reading.objects.filter(meter=newcomer, timestamp__lt=campus.end - dt.timedelta(days=2)).delete()
    version = baseline_train()
    assert version.metrics["per_meter"][str(newcomer.pk)]["tier"] == "cohort"
    model = baseline_current()
    assert model is not None
    unseen = model[0].stats_for(999_999, is_main=0.0, bed_type=float(newcomer.room.bed_type if newcomer.room else 2))
    assert unseen.tier == "cohort"
    assert unseen.scale > 0
    result = _detect(campus)
    assert result.readings > 0


def test_warden_false_alarms_raise_the_meter_threshold_and_then_mute_the_kind() -> None:
    campus = _campus(seed=7, kinds=(), days=3)
    meter = campus.meters[0]
    for n in range(3):
        detector_feedback_record(meter_id=meter.pk, kind="spike", true_alarm=False, source=f"alert:{n}")
    detector_feedback_record(meter_id=meter.pk, kind="spike", true_alarm=False, source="alert:0")  # same verdict again
    baseline = MeterBaseline.objects.get(meter=meter)
    assert baseline.threshold_boost == 3.0
    assert baseline.suppressed_kinds == ["spike"]


def test_explanations_name_the_room_its_beds_occupants_times_and_cost() -> None:
    campus = _campus(seed=3, kinds=("vacant_usage",))
    _train(campus)
    _detect(campus)
    anomaly = Anomaly.objects.filter(kind="vacant_usage").first()
    assert anomaly is not None
    text = anomaly.explanation
    assert text.startswith("Room ")
    assert "beds, 0 occupants" in text
    assert "was expected" in text
    assert "EUR wasted" in text
    assert anomaly.currency == "EUR"
    assert anomaly.excess_cost is not None


def test_evaluate_detector_prints_one_json_object_last(capsys: Any) -> None:
    _campus(seed=8, days=16, incident_days=6, kinds=("spike", "flat_line", "voltage_sag", "night_usage"))
    call_command("evaluate_detector", "--simulated", "--json", "--train-fraction", "0.6")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    for key in ("precision", "recall", "f1", "baseline_f1"):
        assert 0.0 <= result[key] <= 1.0
    assert result["recall"] >= 0.75


def test_evaluate_detector_scores_an_imported_meter_against_day_labels(tmp_path: Any, capsys: Any) -> None:
    campus = _campus(seed=9, days=12, incident_days=5, kinds=("sustained_excess",))
    incident = campus.incidents[0]
    labels = tmp_path / "labels.csv"
    days = sorted({(campus.start + dt.timedelta(days=d)).date() for d in range(12)})
    bad = {incident.start.date(), (incident.end - dt.timedelta(seconds=1)).date()}
    # The file covers a calendar: 10 labelled days, 4 of them positive, before the meter's first reading.
    before = [days[0] - dt.timedelta(days=n) for n in range(10, 0, -1)]
    rows = [f"{d},{float(n % 3 == 0)}\n" for n, d in enumerate(before)] + [f"{d},{int(d in bad)}\n" for d in days]
    labels.write_text("date,is_anomaly\n" + "".join(rows))
    call_command("evaluate_detector", "--meter", incident.meter.serial, "--labels", str(labels), "--json")
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["recall"] == 1.0  # the days before the readings are not missed incidents
    assert result["label_days_outside_readings"] == 10
    assert result["label_positive_days_outside_readings"] == 4
    assert "10 labelled days (4 positive)" in out
    assert "day_f1" in result
    assert "baseline_f1" in result


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,is_anomaly\n2025-01-01,0\n2025-01-02,maybe\n", "line 3: is_anomaly must be 1 or 0"),
        ("date,is_anomaly\n2025-01-01,0\n01/02/2025,1\n", "line 3: Invalid isoformat"),
        ("start,end\n2025-01-02T10:00,2025-01-02T08:00\n", "line 2: end 2025-01-02T08:00 is not after start"),
        ("day,label\n2025-01-01,1\n", "labels must have columns date,is_anomaly or start,end"),
        ("date,is_anomaly\n2001-01-01,1\n", "no label falls between the meter's first and last reading"),
    ],
)
def test_evaluate_detector_says_what_is_wrong_in_a_labels_file_and_where(
    tmp_path: Any, text: str, message: str
) -> None:
    from django.core.management.base import CommandError

    campus = _campus(seed=9, days=3, incident_days=1, kinds=())
    labels = tmp_path / "labels.csv"
    labels.write_text(text)
    serial = campus.meters[0].serial
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("evaluate_detector", "--meter", serial, "--labels", str(labels), "--json")


def test_evaluate_detector_names_an_unknown_meter(tmp_path: Any) -> None:
    from django.core.management.base import CommandError

    labels = tmp_path / "labels.csv"
    labels.write_text("date,is_anomaly\n2025-01-01,1\n")
    with pytest.raises(CommandError, match="no meter with serial 'NOPE-1'"):
        call_command("evaluate_detector", "--meter", "NOPE-1", "--labels", str(labels))


def test_train_baseline_if_missing_trains_once_then_keeps_the_current_model(capsys: Any) -> None:
    """`make run` calls it before serving: the first live reading must not wait for a training."""
    _campus(seed=7, kinds=(), days=6)
    call_command("train_baseline", "--if-missing", "--json")
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["trained"] is True
    assert first["status"] == ModelVersion.Status.CURRENT
    call_command("train_baseline", "--if-missing", "--json")
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert second == first | {"trained": False, "seconds": second["seconds"]}
    assert ModelVersion.objects.filter(family="anomaly").count() == 1
    call_command("train_baseline", "--json")  # without --if-missing: a new version
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["version"] != first["version"]


def test_detection_keeps_what_it_expected_hour_by_hour_for_the_pages() -> None:
    from django.db.models import Sum

    from predictions.detection import incidents_find
    from predictions.detection.scanned import HourScan
    from predictions.models import ScannedHour

    campus = _campus(seed=4, kinds=(), days=10, incident_days=2)
    _train(campus)
    start = campus.end - dt.timedelta(days=1)
    anomalies_detect(start=start, end=campus.end, handoff=False)
    anomalies_detect(start=start, end=campus.end, handoff=False)  # a repeat overwrites, never duplicates
    detected = Meter.objects.filter(kind__in=("room", "hostel_main")).count()
    assert ScannedHour.objects.count() == detected * 24
    assert set(ScannedHour.objects.values_list("readings", flat=True)) == {4}
    # The stored expected is the detector's own: the same as the incidents finder computes for that window.
    scans: list[HourScan] = []
    incidents_find(start=start, end=campus.end, scans=scans)
    stored = ScannedHour.objects.aggregate(expected=Sum("expected_kwh"), actual=Sum("actual_kwh"))
    assert stored["expected"] == pytest.approx(sum(s.expected_kwh for s in scans), rel=1e-4)
    assert stored["actual"] == pytest.approx(
        Reading.objects.filter(timestamp__gte=start).aggregate(s=Sum("kwh"))["s"], rel=1e-4
    )
