"""A room's slow rise over weeks is found as `drift`; residents coming back to their room are not a drift."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory
from predictions.detection.drift import DriftConfig, drift_explain, drift_findings, drift_judge
from predictions.detection.services import incidents_find
from predictions.ml.anomaly import AnomalyBaseline
from predictions.tests.weather_rooms import SHAPE, STEPS, room_infos, room_rows

ROOMS, DAYS = 8, 49
TRAIN_DAYS = 42  # the model learnt the six weeks before the judged one, as the weekly retrain does
DRIFT_FROM = 28  # the drifting room rises from day 28 to the end: 2.5 times its use by day 49
DRIFTING, RETURNING = 3, 6  # meter ids (room index + 1)
RETURN_DAY = 37  # the returning room is empty until its two residents move back in


def _hostel(*, drift: float = 1.5) -> pd.DataFrame:
    """Eight two-bed rooms in mild weather; one rising slowly, one empty until its residents come back."""
    rng = np.random.default_rng(7)
    ts = pd.date_range("2025-09-01", periods=DAYS * STEPS, freq="15min", tz="UTC")
    hour = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    day = np.arange(DAYS * STEPS) // STEPS
    parts = []
    for room in range(ROOMS):
        daily = rng.lognormal(0.0, 0.15, DAYS)[day]
        people = 0.5 * SHAPE[ts.hour.to_numpy()] * rng.lognormal(0, 0.2) * daily
        occupants = np.full(len(ts), 2.0)
        if room + 1 == RETURNING:
            occupants = np.where(day < RETURN_DAY, 0.0, 2.0)
        kw = (0.05 + people * (occupants > 0)) * rng.lognormal(0, 0.07, len(ts))
        if room + 1 == DRIFTING:
            kw *= 1.0 + drift * np.clip((day + hour / 24 - DRIFT_FROM) / (DAYS - DRIFT_FROM), 0.0, 1.0)
        parts.append(room_rows(room=room, ts=ts, hour=hour, temp=15.0, kw=kw, occupants=occupants))
    return pd.concat(parts, ignore_index=True)


def _trained(frame: pd.DataFrame) -> tuple[AnomalyBaseline, dt.datetime, dt.datetime]:
    start = (frame["ts"].min() + pd.Timedelta(days=TRAIN_DAYS)).to_pydatetime()
    model = AnomalyBaseline(n_estimators=60)
    model.train(frame[frame["ts"] < pd.Timestamp(start)].reset_index(drop=True))
    return model, start, start + dt.timedelta(days=DAYS - TRAIN_DAYS)


def test_a_room_rising_slowly_for_weeks_is_a_drift_and_a_room_whose_residents_came_back_is_not() -> None:
    frame = _hostel()
    model, start, end = _trained(frame)

    found = drift_findings(
        infos=room_infos(ROOMS), meter_ids=range(1, ROOMS + 1), start=start, end=end, model=model, frame=frame
    )

    assert [f.meter_id for f in found] == [DRIFTING]
    finding = found[0]
    assert finding.rise > 0.5
    assert finding.first is not None
    assert finding.since < finding.first  # it had been rising before it was found
    assert finding.actual_kwh > finding.expected_kwh


def test_a_steady_room_is_not_a_drift() -> None:
    frame = _hostel(drift=0.0)
    model, start, end = _trained(frame)

    found = drift_findings(
        infos=room_infos(ROOMS), meter_ids=range(1, ROOMS + 1), start=start, end=end, model=model, frame=frame
    )

    assert found == []


def test_a_rise_across_the_residents_return_is_never_judged_on_the_days_before_it() -> None:
    """Ten days of empty room then ten of a full one: a step, not a rise; the days compared are the full ones."""
    days = pd.DataFrame(
        {
            "meter_id": 1,
            "day": [dt.date(2025, 9, 1) + dt.timedelta(days=n) for n in range(20)],
            "actual": [1.2] * 10 + [6.0] * 10,
            "expected": [1.2] * 10 + [6.0] * 10,
            "occupants": [0.0] * 10 + [2.0] * 10,
            "steady": [True] * 20,
            "hostel_id": 1,
        }
    )
    # What the model got wrong on the first full days (a step up at the return) is no rise within them.
    days["adjusted"] = [0.0] * 10 + [0.6] * 10

    assert drift_judge(days=days, position=19, config=DriftConfig(), meter_id=1) is None
    days["adjusted"] = np.r_[np.zeros(10), np.linspace(0.0, 0.7, 10)]  # the same days rising instead
    days.loc[10:, "actual"] = np.linspace(6.0, 12.0, 10)
    assert drift_judge(days=days, position=19, config=DriftConfig(), meter_id=1) is not None


def test_a_drift_explanation_says_since_when_by_how_much_and_what_to_check() -> None:
    info = room_infos(1)[1]
    text = drift_explain(
        info=info,
        start=dt.datetime(2025, 10, 14, tzinfo=dt.UTC),
        end=dt.datetime(2025, 10, 16, tzinfo=dt.UTC),
        actual=24.0,
        level=14.0,
        extra={"since": float(dt.date(2025, 9, 29).toordinal()), "rise": 0.8, "occupants": 2},
    )

    assert text.startswith("Room 1, 2 beds, 2 occupants: use has crept up day after day since Monday 29 Sep 2025")
    assert "24.0 kWh in the 2 days to Wednesday 15 Oct 2025" in text
    assert "80 % more" in text
    assert "failing fridge" in text


@pytest.mark.django_db
def test_detection_reports_a_slowly_rising_room_as_a_drift() -> None:
    hostel = HostelFactory.create(code="D")
    meters = [
        MeterFactory.create(serial=f"D-{n}", room=RoomFactory.create(hostel=hostel, number=f"D{n}", capacity=2))
        for n in range(1, ROOMS + 1)
    ]
    frame = _hostel()
    ids = {n: meter.id for n, meter in enumerate(meters, start=1)}
    frame["meter_id"] = frame["meter_id"].map(ids)
    frame["hostel_id"] = hostel.id
    model, start, end = _trained(frame)

    found, _ = incidents_find(meter_ids=list(ids.values()), start=start, end=end, model=model, frame=frame)

    drifts = [f for f in found if f.kind == "drift"]
    assert [f.meter_id for f in drifts] == [ids[DRIFTING]]
    assert not any(f.meter_id == ids[RETURNING] for f in found)
