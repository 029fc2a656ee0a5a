"""A closure filling the held-back week judges the baseline on the building's usual days, not on the closure.

A calendar year exported on 31 December ends in the Christmas closure. Its baseline was judged on a week it
was never told was closed: every building read unfit (hourly NMBE near -1) and its consumption findings were
muted for the whole scan. The day detector's closures in the held-back week are now left out of the fitness
gate and of the building's spreads and centre.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db.models import F

from meters.models import Reading
from predictions.detection import baseline_current, baseline_train
from predictions.detection.baselines import unlike_days_found
from predictions.detection.frames import frame_load
from predictions.detection.history_eras import Era, _era_models, era_baseline, era_fit, era_train
from predictions.ml.anomaly import AnomalyBaseline
from predictions.models import HistoryScan, ModelVersion
from predictions.tests.test_day_anomalies import closed_hour, day_span, main_meter, working_hour, write_days

pytestmark = pytest.mark.django_db

DAYS = 68  # from Monday 2 September 2024 to Friday 8 November: the last working week is the closure
CLOSURE = (dt.date(2024, 11, 4), dt.date(2024, 11, 8))


def closed_last_week(day: dt.date, hour: int) -> float:
    """A shutdown, as at Christmas: below even a weekend, heating and all, at every hour of its days."""
    if CLOSURE[0] <= day <= CLOSURE[1]:
        return 0.5 * closed_hour(hour)
    return closed_hour(hour) if day.weekday() >= 5 else working_hour(hour)


def _per_meter(version: ModelVersion, meter_id: int) -> dict[str, float | bool | None]:
    return version.metrics["per_meter"][str(meter_id)]


def test_the_held_back_weeks_closure_is_found_as_a_days_finding() -> None:
    meter = main_meter(minutes=30)
    write_days(meter, days=DAYS, minutes=30, profile=closed_last_week)
    frame = frame_load(meter_ids=[meter.id])

    unlike = unlike_days_found(frame=frame, meter_ids=[meter.id])

    assert unlike == [(meter.id, day_span(CLOSURE[0])[0], day_span(CLOSURE[1])[1])]


def test_a_baseline_whose_held_back_week_is_a_closure_is_fit_and_centred_on_the_usual_days() -> None:
    meter = main_meter(minutes=30)
    write_days(meter, days=DAYS, minutes=30, profile=closed_last_week)

    version = baseline_train(meter_ids=[meter.id], n_estimators=40)

    stats = _per_meter(version, meter.id)
    assert stats["fit"] is True, stats
    gate_nmbe = stats["gate_nmbe"]
    assert gate_nmbe is not None
    assert abs(float(gate_nmbe)) < 0.05, stats  # was -1.7, judged on the closure
    current = baseline_current(retrain=False)
    assert current is not None
    assert current[1].pk == version.pk
    assert abs(current[0].meters[meter.id].bias) < 0.05  # the next working week is not read against a closure


def test_a_usual_held_back_week_is_judged_as_before() -> None:
    meter = main_meter(minutes=30)
    write_days(meter, days=DAYS, minutes=30)
    frame = frame_load(meter_ids=[meter.id])

    assert unlike_days_found(frame=frame, meter_ids=[meter.id]) == []
    version = baseline_train(meter_ids=[meter.id], n_estimators=40)
    assert _per_meter(version, meter.id)["fit"] is True


def test_an_eras_baseline_that_misdescribes_its_era_is_unfit_there() -> None:
    """The era gate: the baseline judging weeks of a scan must describe those weeks, not only the week after."""
    meter = main_meter(minutes=30)
    write_days(meter, days=DAYS, minutes=30, profile=closed_last_week)
    version = baseline_train(meter_ids=[meter.id], n_estimators=40, promote=False)
    model = AnomalyBaseline.load(version.artifact)
    era = (day_span(dt.date(2024, 10, 7))[0], day_span(dt.date(2024, 11, 3))[1])  # the four weeks before the closure

    described = era_fit(model=model, meter_ids=[meter.id], start=era[0], end=era[1])[meter.id]
    assert described["era_fit"] is True, described

    # The same era a third busier than the baseline knows: its consumption findings there are not to be trusted.
    Reading.objects.filter(meter=meter, timestamp__gte=era[0], timestamp__lt=era[1]).update(kwh=F("kwh") * 1.35)
    misdescribed = era_fit(model=model, meter_ids=[meter.id], start=era[0], end=era[1])[meter.id]
    assert misdescribed["era_fit"] is False, misdescribed
    assert float(misdescribed["era_nmbe"] or 0) > 0.2


def test_the_era_gate_mutes_the_eras_consumption_findings_on_that_building() -> None:
    meter = main_meter(minutes=30)
    write_days(meter, days=DAYS, minutes=30, profile=closed_last_week)
    era = Era(day_span(dt.date(2024, 10, 7))[0], day_span(dt.date(2024, 11, 3))[1], own=True)
    scan = HistoryScan.objects.create(
        key="era-gate", reason=HistoryScan.Reason.IMPORT, start=era.start, end=era.end, meter_ids=[meter.id]
    )
    version = era_train(meter_ids=[meter.id], start=era.start, end=era.end, scan_id=scan.pk)
    judged = era_baseline(scan=scan, era=replace(era, version_id=version.pk))
    assert judged is not None
    version.refresh_from_db()
    assert version.metrics["per_meter"][str(meter.id)]["era_fit"] is True
    assert judged[0].meters[meter.id].fit is True

    per_meter = version.metrics["per_meter"]
    per_meter[str(meter.id)]["era_fit"] = False
    ModelVersion.objects.filter(pk=version.pk).update(metrics=version.metrics | {"per_meter": per_meter})
    _era_models.clear()
    judged = era_baseline(scan=scan, era=replace(era, version_id=version.pk))
    assert judged is not None
    assert judged[0].meters[meter.id].fit is False  # its consumption findings in the era are muted
