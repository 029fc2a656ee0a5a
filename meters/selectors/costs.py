"""Cost of a hostel's consumption at its meters' tariffs, from the hostel's kWh and its meters' prices.

A hostel's cost is the sum over its meters of kWh times the flat price per kWh of the meter's customer's
tariff (a meter with no customer costs nothing). Pricing every meter's daily rollups took 75 to 160 ms for
two weeks of 5,000 rooms (70,000 rows joined to customers and tariffs, issue 29); but the meters of a hall
mostly share one price. So the meters are grouped by hostel and price first (one query over the meters):
a hostel of one price costs that price times its kWh (from its hostel hourly rollups, read anyway for the
kWh and carbon), and only the hostels of several prices have their meters' daily rollups priced, per price.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import Count, Sum

from meters.models import DailyRollup, Meter

PRICE = "customer__tariff__price_per_kwh"


def _price(value: object) -> float:
    """A tariff's price per kWh as the database's cast to double precision gives it; none costs nothing."""
    return 0.0 if value is None else float(value)  # type: ignore[arg-type]


def cost_by_hostel(
    *,
    hostel_ids: Iterable[int],
    kind: str,
    kwh: Mapping[int, float],
    start: dt.date,
    end: dt.date,
) -> dict[int, float]:
    """Each hostel's cost of its `kind` meters' consumption over local days start..end (inclusive), given
    `kwh`, those meters' total kWh per hostel over the same days (`energy_by_hostel`: the sum of their daily
    rollups). 0.0 for a hostel with no meters of that kind or no kWh.

    One query over the meters, and one over the daily rollups of the hostels whose meters have several prices
    (none when each hostel has one)."""
    ids = list(hostel_ids)
    counts: dict[int, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    groups = (
        Meter.objects.filter(hostel_id__in=ids, kind=kind)
        .values("hostel_id", PRICE)
        .annotate(n=Count("id"))
        .values_list("hostel_id", PRICE, "n")
        .order_by()
    )
    for hostel_id, price, n in groups:
        counts[hostel_id][_price(price)] += n
    single = {hostel_id: next(iter(by_price)) for hostel_id, by_price in counts.items() if len(by_price) == 1}
    costs = {hostel_id: single.get(hostel_id, 0.0) * float(kwh.get(hostel_id) or 0.0) for hostel_id in ids}
    mixed = [hostel_id for hostel_id, by_price in counts.items() if len(by_price) > 1]
    if not mixed:
        return costs
    # Hostels of several prices: each price group's kWh from its meters' daily rollups (one query for all).
    rows = (
        DailyRollup.objects.filter(meter__hostel_id__in=mixed, meter__kind=kind, day__gte=start, day__lte=end)
        .values("meter__hostel_id", f"meter__{PRICE}")
        .annotate(total=Sum("kwh"))
        .values_list("meter__hostel_id", f"meter__{PRICE}", "total")
        .order_by()
    )
    for hostel_id in mixed:
        costs[hostel_id] = 0.0
    for hostel_id, price, total in rows:
        costs[hostel_id] += _price(price) * float(total or 0.0)
    return costs
