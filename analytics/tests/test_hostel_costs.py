"""The hostel comparison's kWh and cost, priced from hostel rollups: the same figures as pricing every meter's
daily rollups, on a campus of several tariffs and time zones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, FloatField, Sum
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from analytics.selectors.overview import DateRange, hostel_comparison_for_user
from customers.tests.factories import CustomerFactory, TariffFactory
from meters.ingest import readings_ingest
from meters.models import DailyRollup, Meter
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, SiteFactory

START = dt.datetime(2025, 2, 2, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 2, 7, tzinfo=dt.UTC)
PERIOD = DateRange(start=dt.date(2025, 2, 3), end=dt.date(2025, 2, 5))  # cuts the readings at both ends


def _old(ids: list[int], period: DateRange) -> dict[int, tuple[float, float]]:
    """The comparison's kWh and cost as they were computed before (issue 29): every room meter's daily rollups
    priced at its customer's tariff in SQL."""
    price = Cast("meter__customer__tariff__price_per_kwh", FloatField())
    rows = (
        DailyRollup.objects.filter(
            meter__hostel_id__in=ids, meter__kind=Meter.Kind.ROOM, day__gte=period.start, day__lte=period.end
        )
        .values("meter__hostel_id")
        .annotate(total_kwh=Sum("kwh"), total_cost=Sum(F("kwh") * price))
    )
    return {row["meter__hostel_id"]: (float(row["total_kwh"] or 0.0), float(row["total_cost"] or 0.0)) for row in rows}


@pytest.fixture
def tariffed(campus: Any) -> dict[str, Any]:
    """Hostels on two sites (Madrid, and Kolkata at UTC+5:30, whose local days do not start on a UTC hour):
    one of one tariff, one of three tariffs and a meter with no customer, one with no customers at all;
    readings ingested (so every rollup is written by ingestion) every 15 minutes for four and a half days."""
    madrid = SiteFactory.create(code="madrid", timezone="Europe/Madrid")
    kolkata = SiteFactory.create(code="kolkata", timezone="Asia/Kolkata")
    flat = TariffFactory.create(name="Flat", price_per_kwh=Decimal("0.2000"))
    night = TariffFactory.create(name="Night saver", price_per_kwh=Decimal("0.1234"))
    staff = TariffFactory.create(name="Staff", price_per_kwh=Decimal("0.3100"))
    one = HostelFactory.create(site=madrid, code="ONE", name="One tariff")
    mixed = HostelFactory.create(site=kolkata, code="MIX", name="Three tariffs")
    none = HostelFactory.create(site=kolkata, code="NONE", name="No customers")
    plan = [
        (one, flat),
        (one, flat),
        (one, flat),
        (mixed, flat),
        (mixed, flat),
        (mixed, night),
        (mixed, staff),
        (mixed, None),
        (none, None),
        (none, None),
    ]
    rows = []
    for k, (hostel, tariff) in enumerate(plan):
        customer = CustomerFactory.create(tariff=tariff) if tariff else None
        meter = MeterFactory.create(serial=f"RM-T-{k}", room=RoomFactory.create(hostel=hostel), customer=customer)
        rows += [
            {
                "meter": meter.serial,
                "timestamp": (START + dt.timedelta(minutes=15 * i)).isoformat(),
                "kwh": round(0.05 + 0.01 * k + 0.003 * (i % 37), 3),
            }
            for i in range(4 * 24 * 4 + 48)
        ]
    readings_ingest(rows=rows, source="test", now=NOW)
    return {"one": one, "mixed": mixed, "none": none}


@pytest.mark.django_db
def test_the_comparison_costs_what_pricing_every_meters_daily_rollups_cost(tariffed: Any, manager: Any) -> None:
    found = hostel_comparison_for_user(user=manager, period=PERIOD, now=NOW, weather=False)
    old = _old([row.id for row in found], PERIOD)
    assert {tariffed["one"].id, tariffed["mixed"].id, tariffed["none"].id} <= set(old)
    for row in found:
        kwh, cost = old.get(row.id, (0.0, 0.0))
        assert row.kwh == pytest.approx(kwh, rel=1e-12, abs=1e-12), row.name
        assert row.cost == pytest.approx(cost, rel=1e-12, abs=1e-12), row.name
    by_id = {row.id: row for row in found}
    assert by_id[tariffed["mixed"].id].cost > 0
    assert by_id[tariffed["none"].id].kwh > 0
    assert by_id[tariffed["none"].id].cost == 0.0


@pytest.mark.django_db
def test_a_warden_is_priced_only_their_hostel(tariffed: Any, campus: Any, warden_a: Any) -> None:
    tariffed["mixed"].wardens.add(warden_a)
    found = hostel_comparison_for_user(user=warden_a, period=PERIOD, now=NOW, weather=False)
    assert {row.name for row in found} == {"Hostel A", "Three tariffs"}
    old = _old([tariffed["mixed"].id], PERIOD)[tariffed["mixed"].id]
    mixed = next(row for row in found if row.name == "Three tariffs")
    assert (mixed.kwh, mixed.cost) == (pytest.approx(old[0], rel=1e-12), pytest.approx(old[1], rel=1e-12))


@pytest.mark.django_db
def test_hostels_of_one_price_each_are_priced_without_reading_any_meters_daily_rollups(
    tariffed: Any, manager: Any
) -> None:
    Meter.objects.filter(hostel=tariffed["mixed"]).delete()  # left: hostels of one price (or none) each
    with CaptureQueriesContext(connection) as queries:
        found = hostel_comparison_for_user(user=manager, period=PERIOD, now=NOW, weather=False)
    assert not [query["sql"] for query in queries.captured_queries if DailyRollup._meta.db_table in query["sql"]]
    one = next(row for row in found if row.id == tariffed["one"].id)
    assert one.cost == pytest.approx(_old([one.id], PERIOD)[one.id][1], rel=1e-12)
    assert one.cost > 0
