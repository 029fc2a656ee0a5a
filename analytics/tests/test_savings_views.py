"""measure_savings, the intervention pages and API: known answers and who sees what."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from analytics.models import Intervention
from analytics.savings.services import intervention_create, intervention_measure, interventions_measure_growing
from config.celery import app
from conftest import Campus, client_for
from meters.models import Meter, Reading, Weather

START = dt.date(2023, 6, 1)
DAYS = 520
INTERVENTION = dt.date(2024, 8, 1)
CUT = 0.15
KEYS = {"savings_kwh", "savings_fraction", "fraction_low", "fraction_high", "baseline_cv_rmse", "baseline_nmbe"}


def _history(
    campus: Campus,
    *,
    noise: float = 0.03,
    meter: Meter | None = None,
    cut: float = CUT,
    swings: float = 0.0,
    drop: float = 0.0,
    seed: int = 5,
) -> None:
    """Hourly readings of room meter RM-A-101 (or `meter`: heated below 16 °C, quieter at weekends, 3 % daily
    noise unless told; day-to-day `swings` and a `drop` six weeks before INTERVENTION that every meter of the
    site shares) cut by `cut` from INTERVENTION, with the site's hourly weather (written once)."""
    meter = meter or campus.meter_a
    rng = np.random.default_rng(5)  # the weather (the same for every meter), then the noise of RM-A-101
    tz = campus.hostel_a.site.timezone
    index = pd.date_range(pd.Timestamp(START, tz=tz), periods=24 * DAYS, freq="h").tz_convert("UTC")
    day = np.arange(DAYS)
    temperature = 12 + 8 * np.sin(2 * np.pi * (day - 100) / 365) + rng.normal(0, 2, DAYS)
    dates = pd.date_range(pd.Timestamp(START), periods=DAYS, freq="D")
    shared = 1 + np.random.default_rng(99).normal(0, swings, DAYS)
    daily = (8 + 0.5 * np.maximum(16 - temperature, 0) - 2 * (dates.day_of_week >= 5)) * (
        1 + (rng if seed == 5 else np.random.default_rng(seed)).normal(0, noise, DAYS)
    )
    shared = shared * np.where(np.asarray(dates.date) >= INTERVENTION - dt.timedelta(weeks=6), 1 - drop, 1.0)
    kwh = np.repeat(daily * shared / 24, 24)[: len(index)]
    local_dates = np.asarray(index.tz_convert(tz).date)
    kwh = np.where(local_dates >= INTERVENTION, kwh * (1 - cut), kwh)
    Reading.objects.bulk_create(
        [Reading(meter=meter, timestamp=at.to_pydatetime(), kwh=float(v)) for at, v in zip(index, kwh, strict=False)],
        batch_size=5000,
        ignore_conflicts=True,
    )
    Weather.objects.bulk_create(
        [
            Weather(site=campus.hostel_a.site, timestamp=at.to_pydatetime(), temperature_c=float(t))
            for at, t in zip(index, np.repeat(temperature, 24)[: len(index)], strict=False)
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )


@pytest.fixture
def history(campus: Campus) -> Campus:
    _history(campus)
    return campus


@pytest.fixture
def noisy_history(campus: Campus) -> Campus:
    _history(campus, noise=0.4)
    return campus


def _last_json(out: StringIO) -> dict[str, Any]:
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_measure_savings_json_recovers_the_cut_with_every_key(history: Campus) -> None:
    out = StringIO()
    call_command(
        "measure_savings", "--meter", "RM-A-101", "--intervention", INTERVENTION.isoformat(), "--json", stdout=out
    )
    summary = _last_json(out)
    assert summary.keys() >= KEYS
    assert summary["savings_fraction"] == pytest.approx(CUT, abs=0.02)
    assert summary["fraction_low"] <= CUT <= summary["fraction_high"]
    assert 0 < summary["baseline_cv_rmse"] < 0.1
    assert summary["savings_kwh"] > 0


def test_measure_savings_before_the_cut_finds_nothing(history: Campus) -> None:
    out = StringIO()
    call_command(
        "measure_savings",
        "--meter",
        "RM-A-101",
        "--intervention",
        "2024-06-01",
        "--until",
        "2024-07-31",
        "--json",
        stdout=out,
    )
    summary = _last_json(out)
    assert abs(summary["savings_fraction"]) < 0.03
    assert summary["fraction_low"] <= 0 <= summary["fraction_high"]


def test_measure_savings_gives_no_interval_for_a_baseline_outside_guideline_14(noisy_history: Campus) -> None:
    arguments = ("measure_savings", "--meter", "RM-A-101", "--intervention", INTERVENTION.isoformat())
    out = StringIO()
    call_command(*arguments, "--json", stdout=out)
    summary = _last_json(out)
    assert summary.keys() >= KEYS  # the keys stay; the flag says what they are worth
    assert summary["baseline_cv_rmse"] > 0.20
    assert summary["baseline_fit"] is False
    assert "above Guideline 14's 20 %" in summary["baseline_problems"][0]
    text = StringIO()
    call_command(*arguments, stdout=text, stderr=StringIO())
    assert "no interval: the baseline does not meet ASHRAE Guideline 14: CV(RMSE)" in text.getvalue()
    assert "90 % interval" not in text.getvalue()


def test_a_fit_baseline_prints_its_interval(history: Campus) -> None:
    text = StringIO()
    call_command(
        "measure_savings",
        "--meter",
        "RM-A-101",
        "--intervention",
        INTERVENTION.isoformat(),
        stdout=text,
        stderr=StringIO(),
    )
    assert "90 % interval" in text.getvalue()
    assert "halving" not in text.getvalue()  # every baseline day weighs the same by default
    weighted = StringIO()
    call_command(
        "measure_savings",
        "--meter",
        "RM-A-101",
        "--intervention",
        INTERVENTION.isoformat(),
        "--half-life",
        "30",
        "--json",
        stdout=weighted,
    )
    assert _last_json(weighted)["baseline_half_life_days"] == 30
    with pytest.raises(CommandError, match="--half-life: -5 is not a positive number of days"):
        call_command("measure_savings", "--meter", "RM-A-101", "--intervention", "2024-08-01", "--half-life", "-5")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--meter", "NOPE", "--intervention", "2024-08-01"], "unknown meter 'NOPE'"),
        (["--hostel", "999999", "--intervention", "2024-08-01"], "unknown hostel id 999999"),
        (["--site", "nowhere", "--intervention", "2024-08-01"], "unknown site code 'nowhere'"),
        (["--meter", "RM-A-101", "--intervention", "01/08/2024"], "is not a date (YYYY-MM-DD)"),
    ],
)
def test_measure_savings_explains_unknown_subjects_and_bad_dates(
    campus: Campus, arguments: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("measure_savings", *arguments)


def test_measure_savings_explains_dates_the_data_cannot_serve(history: Campus) -> None:
    with pytest.raises(CommandError, match="intervention 2031-01-01 is outside the data of meter RM-A-101"):
        call_command("measure_savings", "--meter", "RM-A-101", "--intervention", "2031-01-01")
    with pytest.raises(CommandError, match="too little baseline data for meter RM-A-101: 92 days"):
        call_command("measure_savings", "--meter", "RM-A-101", "--intervention", "2023-09-01")


@pytest.fixture
def interventions(campus: Campus) -> dict[str, Intervention]:
    return {
        "a": intervention_create(
            title="Timers on corridor heaters", start=INTERVENTION, meter=campus.meter_a, expected_saving_fraction=0.1
        ),
        "b": intervention_create(title="LED lighting", start=INTERVENTION, hostel=campus.hostel_b),
        "site": intervention_create(title="Campus setpoints", start=INTERVENTION, site=campus.hostel_a.site),
    }


def test_warden_lists_only_interventions_of_their_hostel(
    interventions: dict[str, Intervention], warden_a: Any, manager: Any
) -> None:
    ids = {row["id"] for row in client_for(warden_a).get("/api/v1/analytics/interventions").json()["results"]}
    assert ids == {interventions["a"].pk}
    everything = {row["id"] for row in client_for(manager).get("/api/v1/analytics/interventions").json()["results"]}
    assert everything == {i.pk for i in interventions.values()}


def test_warden_cannot_read_another_hostels_or_the_sites_intervention(
    interventions: dict[str, Intervention], warden_b: Any
) -> None:
    client = client_for(warden_b)
    assert client.get(f"/api/v1/analytics/interventions/{interventions['a'].pk}").status_code == 404
    assert client.get(f"/api/v1/analytics/interventions/{interventions['site'].pk}").status_code == 404
    assert client.get(f"/interventions/{interventions['a'].pk}/").status_code == 404
    assert b"Timers on corridor heaters" not in client.get("/interventions/").content


@pytest.fixture
def eager() -> Any:
    """Queued tasks run in the calling thread, as a worker would run them."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


def test_logging_an_intervention_queues_its_measurement_after_commit(
    history: Campus, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        logged = intervention_create(title="Timers", start=INTERVENTION, meter=history.meter_a)
    assert len(queued) == 1
    assert Intervention.objects.get(pk=logged.pk).measured_at is None  # nothing measured before the commit
    queued[0]()
    measured = Intervention.objects.get(pk=logged.pk)
    assert measured.savings_fraction == pytest.approx(CUT, abs=0.02)
    assert measured.measurement["daily"][0][0] == INTERVENTION.isoformat()


def test_the_measurement_tasks_run_on_the_training_queue() -> None:
    for task in ("analytics.tasks.intervention_measure", "analytics.tasks.interventions_measure_nightly"):
        assert app.amqp.router.route({}, task)["queue"].name == "training"


def test_reading_an_intervention_never_measures_it(
    history: Campus, interventions: dict[str, Intervention], warden_a: Any
) -> None:
    pk = interventions["a"].pk
    page = client_for(warden_a).get(f"/interventions/{pk}/")
    body = client_for(warden_a).get(f"/api/v1/analytics/interventions/{pk}").json()
    row = Intervention.objects.get(pk=pk)
    assert row.measured_at is None
    assert row.savings_fraction is None
    assert row.measurement == {}
    assert "Not measured yet" in page.content.decode()
    assert body["savings_fraction"] is None
    assert body["daily"] == []


def test_manager_measures_now_by_post_and_a_warden_may_not(
    history: Campus, interventions: dict[str, Intervention], manager: Any, warden_a: Any
) -> None:
    pk = interventions["a"].pk
    assert client_for(warden_a).post(f"/interventions/{pk}/measure/").status_code == 403
    assert client_for(manager).get(f"/interventions/{pk}/measure/").status_code == 405
    assert Intervention.objects.get(pk=pk).measured_at is None
    response = client_for(manager).post(f"/interventions/{pk}/measure/")
    assert response.status_code == 302
    row = Intervention.objects.get(pk=pk)
    assert row.savings_fraction == pytest.approx(CUT, abs=0.02)
    assert row.baseline_holdout_error is not None
    page = client_for(manager).get(f"/interventions/{pk}/").content.decode()
    assert "Measured" in page
    assert "Measure now" in page


def test_warden_cannot_measure_another_hostels_intervention(
    interventions: dict[str, Intervention], manager: Any, warden_b: Any
) -> None:
    response = client_for(warden_b).post(f"/interventions/{interventions['a'].pk}/measure/")
    assert response.status_code == 403
    assert Intervention.objects.get(pk=interventions["a"].pk).measured_at is None


def test_nightly_remeasures_growing_periods_and_leaves_old_measured_ones(
    history: Campus, interventions: dict[str, Intervention]
) -> None:
    old = interventions["b"]
    Intervention.objects.filter(pk=old.pk).update(
        start=dt.date(2020, 1, 1), measured_at=dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    )
    future = intervention_create(title="Next year", start=dt.date(2031, 1, 1), meter=history.meter_a)
    counts = interventions_measure_growing(today=INTERVENTION + dt.timedelta(days=60))
    assert counts["measured"] + counts["failed"] == 2  # a's meter and the site's; not the old or future ones
    assert Intervention.objects.get(pk=interventions["a"].pk).savings_fraction == pytest.approx(CUT, abs=0.02)
    assert Intervention.objects.get(pk=old.pk).measured_at == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    assert Intervention.objects.get(pk=future.pk).measured_at is None


def test_intervention_api_detail_reads_the_stored_cut_with_its_days(
    history: Campus, interventions: dict[str, Intervention], warden_a: Any
) -> None:
    intervention_measure(intervention=interventions["a"])
    body = client_for(warden_a).get(f"/api/v1/analytics/interventions/{interventions['a'].pk}").json()
    assert body["measured_at"] is not None
    assert body["savings_fraction"] == pytest.approx(CUT, abs=0.02)
    assert body["fraction_low"] <= CUT <= body["fraction_high"]
    assert body["daily"][-1]["cumulative_savings_kwh"] == pytest.approx(body["savings_kwh"], rel=1e-3)
    assert body["measure_error"] == ""


def test_intervention_page_draws_baseline_actual_and_cumulative_savings(
    history: Campus, interventions: dict[str, Intervention], warden_a: Any
) -> None:
    intervention_measure(intervention=interventions["a"])
    response = client_for(warden_a).get(f"/interventions/{interventions['a'].pk}/")
    assert response.status_code == 200
    figure = json.loads(response.context["figure"])
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Baseline (expected)", "Actual", "Savings so far"]
    assert figure["data"][2]["y"][-1] == pytest.approx(response.context["result"]["savings_kwh"], rel=1e-3)
    assert "Measure now" not in response.content.decode()  # a warden reads, a manager measures


def test_intervention_pages_say_a_baseline_outside_guideline_14_gives_no_interval(
    noisy_history: Campus, interventions: dict[str, Intervention], manager: Any
) -> None:
    intervention_measure(intervention=interventions["a"])
    stored = Intervention.objects.get(pk=interventions["a"].pk)
    assert stored.baseline_problems
    assert stored.baseline_problems[0].startswith("CV(RMSE) ")
    page = client_for(manager).get(f"/interventions/{stored.pk}/").content.decode()
    assert "The baseline does not meet ASHRAE Guideline 14" in page
    assert "90 % interval" not in page
    listing = client_for(manager).get("/interventions/").content.decode()
    assert "baseline not fit (Guideline 14)" in listing


def test_hostel_without_readings_shows_why_it_has_no_measurement(
    interventions: dict[str, Intervention], manager: Any
) -> None:
    client_for(manager).post(f"/interventions/{interventions['b'].pk}/measure/")
    response = client_for(manager).get(f"/interventions/{interventions['b'].pk}/")
    assert response.status_code == 200
    assert "has no" in Intervention.objects.get(pk=interventions["b"].pk).measure_error
    assert "No measurement: hostel" in response.content.decode()


def test_manager_logs_an_intervention_and_a_warden_may_not(campus: Campus, manager: Any, warden_a: Any) -> None:
    form = {"title": "Boiler schedule", "hostel": campus.hostel_a.pk, "start": "2025-01-10"}
    assert client_for(warden_a).post("/interventions/new/", form).status_code == 403
    response = client_for(manager).post("/interventions/new/", form)
    assert response.status_code == 302
    logged = Intervention.objects.get(title="Boiler schedule")
    assert logged.created_by == manager
    assert logged.hostel == campus.hostel_a


def test_an_intervention_names_exactly_one_place(campus: Campus, manager: Any) -> None:
    form = {"title": "Both", "hostel": campus.hostel_a.pk, "meter": campus.meter_a.pk, "start": "2025-01-10"}
    response = client_for(manager).post("/interventions/new/", form)
    assert response.status_code == 400
    assert "exactly one of meter, hostel or site" in response.content.decode()


def test_an_admin_edit_of_when_or_where_queues_a_new_measurement(
    interventions: dict[str, Intervention], admin: Any, rf: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from types import SimpleNamespace

    from django.contrib.admin.sites import site

    from analytics.admin import InterventionAdmin

    model_admin = InterventionAdmin(Intervention, site)
    request = rf.post("/admin/")
    request.user = admin
    row = interventions["a"]
    with django_capture_on_commit_callbacks() as queued:
        model_admin.save_model(request, row, SimpleNamespace(changed_data=["title"]), True)
    assert queued == []
    row.start = INTERVENTION + dt.timedelta(days=7)
    with django_capture_on_commit_callbacks() as queued:
        model_admin.save_model(request, row, SimpleNamespace(changed_data=["start"]), True)
    assert len(queued) == 1


def test_measure_savings_comparison_uses_an_untouched_hostel_and_never_one_with_an_intervention(
    campus: Campus,
) -> None:
    """Hostel B's meter swings with hostel A's from day to day and drops with it six weeks before the change
    (what the site shares, no calendar explains), and was not cut: A's baseline takes it as a comparison
    building and finds the cut, not the site's drop; not when a change is logged on B."""
    for meter in (campus.meter_a, campus.meter_b):
        meter.full_clean()  # a room meter's hostel is its room's (the factory skips clean)
        meter.save()
    _history(campus, swings=0.10, drop=0.2)
    _history(campus, swings=0.10, drop=0.2, meter=campus.meter_b, cut=0.0, seed=6)
    arguments = ("measure_savings", "--meter", "RM-A-101", "--intervention", INTERVENTION.isoformat(), "--json")
    alone = StringIO()
    call_command(*arguments, stdout=alone)
    assert _last_json(alone)["baseline_comparison"] is None  # the building alone unless asked
    assert _last_json(alone)["savings_fraction"] > CUT + 0.05  # alone, part of the site's drop counts as saved
    out = StringIO()
    call_command(*arguments, "--comparison", stdout=out)
    with_b = _last_json(out)
    assert with_b["baseline_comparison"] == f"hostel B (id {campus.hostel_b.pk})"
    assert with_b["savings_fraction"] == pytest.approx(CUT, abs=0.02)
    assert _last_json(alone)["baseline_cv_rmse"] > with_b["baseline_cv_rmse"]
    Intervention.objects.create(title="New boiler", start=INTERVENTION, hostel=campus.hostel_b)
    touched = StringIO()
    call_command(*arguments, "--comparison", stdout=touched)
    assert _last_json(touched)["baseline_comparison"] is None
