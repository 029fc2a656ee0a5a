"""What the weekly digest holds for one user, in their scope: the week against the usual, open alerts,
the top three opportunities and savings so far."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from alerts.models import Alert
from alerts.selectors import alerts_for_user
from analytics.models import Intervention
from analytics.selectors.carbon import carbon_kg_for, price_per_kwh_for
from analytics.selectors.energy import energy_meter_ids, insights_for, subject_for_hostel
from analytics.selectors.league import Opportunity, opportunities_for_user
from meters.models import DailyRollup, Hostel

USUAL_WEEKS = 4


@dataclass(frozen=True)
class HostelWeek:
    name: str
    kwh: float
    usual_kwh: float | None  # mean of the USUAL_WEEKS weeks before
    cost: float | None
    currency: str
    kg_co2: float
    # Last week against the week before per occupied bed, in average weather (the week-on-week insight).
    normalized_change: float | None = None
    normalized_for: str = ""

    @property
    def change(self) -> float | None:
        return self.kwh / self.usual_kwh - 1 if self.usual_kwh else None


@dataclass(frozen=True)
class Digest:
    user: str
    scope: str
    week_start: dt.date
    week_end: dt.date
    hostels: list[HostelWeek]
    open_alerts: int
    alerts: list[Alert]
    opportunities: list[Opportunity]
    savings: list[str]

    @property
    def kwh(self) -> float:
        return sum(h.kwh for h in self.hostels)

    @property
    def usual_kwh(self) -> float | None:
        usual = [h.usual_kwh for h in self.hostels if h.usual_kwh is not None]
        return sum(usual) if usual else None

    @property
    def change(self) -> float | None:
        usual = self.usual_kwh
        return self.kwh / usual - 1 if usual else None

    @property
    def cost(self) -> float | None:
        costs = [h.cost for h in self.hostels if h.cost is not None]
        return sum(costs) if costs else None

    @property
    def currency(self) -> str:
        currencies = {h.currency for h in self.hostels}
        return currencies.pop() if len(currencies) == 1 else ""

    @property
    def kg_co2(self) -> float:
        return sum(h.kg_co2 for h in self.hostels)


def savings_so_far_for(*, user: Any) -> list[str]:
    """Measured savings of the interventions in the user's scope, one line each (none measured yet: empty)."""
    lines = []
    measured = Intervention.objects.visible_to(user).filter(savings_kwh__isnull=False).order_by("-start")[:10]
    for item in measured.select_related("meter", "hostel", "site"):
        share = f"{100 * item.savings_fraction:+.0f} %" if item.savings_fraction is not None else "unknown"
        interval = (
            f" (90 % interval {100 * item.fraction_low:.0f} to {100 * item.fraction_high:.0f} %)"
            if item.fraction_low is not None and item.fraction_high is not None
            else ""
        )
        lines.append(
            f"{item.title}, {item.where}, since {item.start:%d %b %Y}: "
            f"{item.savings_kwh:,.0f} kWh saved, {share} of the baseline{interval}"
        )
    return lines


def digest_timezone(*, user: Any) -> ZoneInfo:
    """The time zone of the user's first visible site (the server's when they see none)."""
    hostel = Hostel.objects.visible_to(user).select_related("site").order_by("site__name", "code").first()
    return hostel.site.tz if hostel else ZoneInfo(settings.TIME_ZONE)


def digest_for(*, user: Any, now: dt.datetime | None = None) -> Digest:
    """The digest of the last whole local week (Monday to Sunday) for this user."""
    now = now or timezone.now()
    today = now.astimezone(digest_timezone(user=user)).date()
    start = today - dt.timedelta(days=today.weekday() + 7)
    end = start + dt.timedelta(days=6)
    hostels = list(Hostel.objects.visible_to(user).select_related("site", "customer__tariff").order_by("name"))
    weeks = []
    for hostel in hostels:
        meter_ids = energy_meter_ids([hostel.pk])
        by_week = dict(
            DailyRollup.objects.filter(
                meter_id__in=meter_ids, day__gte=start - dt.timedelta(days=7 * USUAL_WEEKS), day__lte=end
            )
            .values_list("day")
            .annotate(kwh=Sum("kwh"))
            .values_list("day", "kwh")
            .order_by()
        )
        totals = [0.0] * (USUAL_WEEKS + 1)
        seen = [False] * (USUAL_WEEKS + 1)
        for day, kwh in by_week.items():
            index = ((start - day).days - 1) // 7 + 1 if day < start else 0
            totals[index] += float(kwh or 0.0)
            seen[index] = True
        usual = [totals[i] for i in range(1, USUAL_WEEKS + 1) if seen[i]]
        price = price_per_kwh_for(meter_ids=meter_ids, hostel=hostel)
        week = next(
            (i for i in insights_for(subject=subject_for_hostel(hostel), today=today) if i.key == "week_on_week"), None
        )
        weeks.append(
            HostelWeek(
                name=hostel.name,
                kwh=totals[0],
                usual_kwh=sum(usual) / len(usual) if usual else None,
                cost=totals[0] * price if price is not None else None,
                currency=hostel.site.currency,
                kg_co2=carbon_kg_for(kwh=totals[0], site=hostel.site),
                normalized_change=week.value if week and week.normalized else None,
                normalized_for=week.normalized if week else "",
            )
        )
    open_alerts = alerts_for_user(user=user).filter(status=Alert.Status.OPEN)
    top = sorted(
        open_alerts.order_by("-last_seen_at")[:50], key=lambda a: (-a.severity_rank, -a.last_seen_at.timestamp())
    )
    return Digest(
        user=user.get_username(),
        scope=hostels[0].name if len(hostels) == 1 else f"All {len(hostels)} hostels",
        week_start=start,
        week_end=end,
        hostels=weeks,
        open_alerts=open_alerts.count(),
        alerts=top[:5],
        opportunities=opportunities_for_user(user=user, today=today)[:3],
        savings=savings_so_far_for(user=user),
    )
