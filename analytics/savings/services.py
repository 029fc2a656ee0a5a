"""Writes and reads of interventions and their measured savings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from analytics.models import Intervention
from analytics.savings.inputs import savings_inputs_for_hostel, savings_inputs_for_meter, savings_inputs_for_site
from analytics.savings.model import SavingsError, SavingsInputs, SavingsResult, savings_measure
from meters.models import Hostel, Meter, Site


def savings_inputs_for(
    *, meter: str | None = None, hostel: int | None = None, site: str | None = None
) -> SavingsInputs:
    """The series of exactly one subject: a meter serial, a hostel id or a site code."""
    if sum(value is not None for value in (meter, hostel, site)) != 1:
        raise SavingsError("name exactly one of a meter, a hostel or a site")
    if meter is not None:
        return savings_inputs_for_meter(serial=meter)
    if hostel is not None:
        return savings_inputs_for_hostel(hostel_id=hostel)
    assert site is not None
    return savings_inputs_for_site(code=site)


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
    return intervention


def intervention_measure(*, intervention: Intervention, until: dt.date | None = None) -> SavingsResult | None:
    """Measure the savings to date and keep the figures on the row; on bad data keep the reason instead
    (and return None), so lists show why there is no figure."""
    try:
        result = savings_measure(intervention_inputs(intervention), intervention=intervention.start, until=until)
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
            "measure_error",
        ]
    )
    return result


def interventions_for_user(*, user: Any) -> Any:
    return Intervention.objects.visible_to(user).select_related("meter", "hostel", "site")


def intervention_for_user(*, user: Any, pk: int) -> Intervention | None:
    return interventions_for_user(user=user).filter(pk=pk).first()
