"""The simulator's interventions are ground truth: measure_savings finds the cut it made, and none
where it made none. A tiny campus over 430 days (a full year of baseline): about a minute."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from meters.models import Hostel, Incident
from meters.simulation import campus_simulate
from meters.simulation.interventions import InterventionSpec

CUT = 0.15
DAY = dt.date(2025, 9, 1)


def _measure(hostel: Hostel) -> dict[str, float]:
    out = StringIO()
    call_command("measure_savings", "--hostel", str(hostel.pk), "--intervention", DAY.isoformat(), "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_measure_savings_recovers_the_simulated_cut_and_finds_none_elsewhere() -> None:
    campus_simulate(
        scale="tiny",
        seed=3,
        start_date=dt.date(2024, 9, 1),
        days=430,
        incidents=False,
        progress=False,
        interventions=[InterventionSpec(hostel=0, start=DAY, share=CUT)],
    )
    truth = Incident.objects.get(kind=Incident.Kind.INTERVENTION)
    assert truth.magnitude == CUT
    assert truth.meter.hostel is not None
    cut_hostel = truth.meter.hostel
    other = Hostel.objects.exclude(pk=cut_hostel.pk).get()

    cut = _measure(cut_hostel)
    assert cut["savings_fraction"] == pytest.approx(CUT, abs=0.03)
    assert cut["fraction_low"] <= CUT <= cut["fraction_high"]

    untouched = _measure(other)
    assert abs(untouched["savings_fraction"]) <= 0.03
    assert untouched["fraction_low"] <= 0 <= untouched["fraction_high"]


def test_an_intervention_outside_the_simulated_days_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the simulated days"):
        campus_simulate(
            scale="tiny",
            seed=1,
            start_date=dt.date(2025, 1, 1),
            days=3,
            incidents=False,
            progress=False,
            sink=_Discard(),
            interventions=[InterventionSpec(hostel=0, start=dt.date(2026, 1, 1), share=0.1)],
        )


class _Discard:
    def write(self, chunk: object, rollups: object) -> int:
        return 0

    def close(self) -> None:
        return None
