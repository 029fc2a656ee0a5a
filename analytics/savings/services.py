"""Writes and reads of interventions and their measured savings."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from celery import signature
from django.db import models, transaction
from django.utils import timezone

from analytics.models import Intervention
from analytics.savings.comparison import with_comparison
from analytics.savings.inputs import (
    comparison_candidates,
    savings_inputs_for_hostel,
    savings_inputs_for_meter,
    savings_inputs_for_site,
)
from analytics.savings.model import SavingsError, SavingsInputs, SavingsResult, savings_measure
from meters.models import Hostel, Meter, Site

MEASURE_TASK = "analytics.tasks.intervention_measure"
# The reporting period: measured from the change for at most this many days (CalTRACK's year), and
# re-measured nightly while it grows (the change is newer than this, plus a month for late data).
REPORTING_DAYS = 365
GROWING_DAYS = REPORTING_DAYS + 31


def savings_inputs_for(
    *,
    meter: str | None = None,
    hostel: int | None = None,
    site: str | None = None,
    intervention: dt.date | None = None,
    until: dt.date | None = None,
    comparison: bool = False,
) -> SavingsInputs:
    """The series of exactly one subject: a meter serial, a hostel id or a site code. With `comparison`
    (opt-in: on the Cambridge buildings it did not measure better, docs/savings.md), a meter's or hostel's
    baseline may use a comparison building (`with_comparison`: another hostel of the site no logged
    intervention touched, when it predicts the 8 weeks before `intervention` better)."""
    if sum(value is not None for value in (meter, hostel, site)) != 1:
        raise SavingsError("name exactly one of a meter, a hostel or a site")
    if site is not None:
        return savings_inputs_for_site(code=site)
    if meter is not None:
        inputs = savings_inputs_for_meter(serial=meter)
        row = Meter.objects.select_related("hostel", "room__hostel").filter(serial=meter).first()
        home = (row.hostel or (row.room.hostel if row.room else None)) if row is not None else None
        place = (home.site_id, home.pk) if home is not None else None
    else:
        assert hostel is not None
        inputs = savings_inputs_for_hostel(hostel_id=hostel)
        place = Hostel.objects.filter(pk=hostel).values_list("site_id", "pk").first()
    if not comparison or intervention is None or place is None:
        return inputs
    candidates = comparison_candidates(site_id=place[0], hostel_id=place[1], intervention=intervention, until=until)
    return with_comparison(inputs, candidates, intervention=intervention, until=until)


def intervention_inputs(intervention: Intervention) -> SavingsInputs:
    if intervention.meter is not None:
        return savings_inputs_for(meter=intervention.meter.serial)
    if intervention.hostel_id is not None:
        return savings_inputs_for(hostel=intervention.hostel_id)
    if intervention.site is not None:
        return savings_inputs_for(site=intervention.site.code)
    raise SavingsError(f"intervention {intervention.pk} names no meter, hostel or site")


def intervention_create(
    *,
    title: str,
    start: dt.date,
    meter: Meter | None = None,
    hostel: Hostel | None = None,
    site: Site | None = None,
    description: str = "",
    expected_saving_fraction: float | None = None,
    expected_kwh_per_year: float | None = None,
    created_by: Any = None,
) -> Intervention:
    """Log a change made on one meter, hostel or site (validated like the admin form)."""
    intervention = Intervention(
        title=title,
        start=start,
        meter=meter,
        hostel=hostel,
        site=site,
        description=description,
        expected_saving_fraction=expected_saving_fraction,
        expected_kwh_per_year=expected_kwh_per_year,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    intervention.full_clean()
    intervention.save()
    intervention_measure_request(intervention_id=intervention.pk)
    return intervention


def intervention_measure_request(*, intervention_id: int) -> None:
    """Queue a measurement once the row that asks for it is committed (on the training queue: a fit per change)."""
    transaction.on_commit(lambda: signature(MEASURE_TASK, kwargs={"intervention_id": intervention_id}).delay())


def interventions_measure_growing(*, today: dt.date | None = None) -> dict[str, int]:
    """Re-measure every intervention whose reporting period may still be growing (started within
    GROWING_DAYS, or never measured); the nightly task. Returns how many were measured and failed."""
    today = today or timezone.localdate()
    due = Intervention.objects.filter(start__lte=today).filter(
        models.Q(start__gte=today - dt.timedelta(days=GROWING_DAYS)) | models.Q(measured_at__isnull=True)
    )
    measured = failed = 0
    for intervention in due.select_related("meter", "hostel", "site").order_by("pk").iterator():
        if intervention_measure(intervention=intervention) is None:
            failed += 1
        else:
            measured += 1
    return {"measured": measured, "failed": failed}


def intervention_measure(*, intervention: Intervention, until: dt.date | None = None) -> SavingsResult | None:
    """Measure the savings to date and keep the figures on the row; on bad data keep the reason instead
    (and return None), so lists show why there is no figure."""
    try:
        result = savings_measure(
            intervention_inputs(intervention),
            intervention=intervention.start,
            until=until,
            longest=REPORTING_DAYS,
        )
    except SavingsError as error:
        intervention.measure_error = str(error)[:300]
        intervention.measured_at = timezone.now()
        intervention.save(update_fields=["measure_error", "measured_at"])
        return None
    intervention.measured_at = timezone.now()
    intervention.measured_until = result.until
    intervention.savings_kwh = result.savings_kwh
    intervention.savings_fraction = result.savings_fraction
    intervention.fraction_low = result.fraction_low
    intervention.fraction_high = result.fraction_high
    intervention.baseline_cv_rmse = result.baseline_cv_rmse
    intervention.baseline_nmbe = result.baseline_nmbe
    intervention.baseline_holdout_error = result.baseline_holdout_error
    intervention.measurement = measurement_json(result)
    intervention.measure_error = ""
    intervention.save(
        update_fields=[
            "measured_at",
            "measured_until",
            "savings_kwh",
            "savings_fraction",
            "fraction_low",
            "fraction_high",
            "baseline_cv_rmse",
            "baseline_nmbe",
            "baseline_holdout_error",
            "measurement",
            "measure_error",
        ]
    )
    return result


def measurement_json(result: SavingsResult) -> dict[str, Any]:
    """The summary with its days ([day, baseline kWh, actual kWh]) as stored on the row."""
    summary = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in result.summary().items()}
    days = pd.DatetimeIndex(result.daily.index)
    summary["daily"] = [
        [day.date().isoformat(), round(float(baseline), 3), round(float(actual), 3)]
        for day, baseline, actual in zip(days, result.daily["baseline_kwh"], result.daily["actual_kwh"], strict=True)
    ]
    return summary


def measurement_days(intervention: Intervention) -> list[dict[str, Any]]:
    """The stored days with the savings summed since the change (empty before the first measurement)."""
    rows, total = [], 0.0
    for day, baseline, actual in intervention.measurement.get("daily", []) if intervention.measurement else []:
        total += baseline - actual
        rows.append(
            {
                "day": dt.date.fromisoformat(day),
                "baseline_kwh": baseline,
                "actual_kwh": actual,
                "cumulative_savings_kwh": round(total, 3),
            }
        )
    return rows


def interventions_for_user(*, user: Any) -> Any:
    return Intervention.objects.visible_to(user).select_related("meter", "hostel", "site")


def intervention_for_user(*, user: Any, pk: int) -> Intervention | None:
    return interventions_for_user(user=user).filter(pk=pk).first()
