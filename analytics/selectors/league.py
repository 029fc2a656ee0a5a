"""Targets and the league of hostels, opportunities ranked by what they are worth, the residents' page.

The league compares the last whole week's kWh per occupied bed and day, corrected to average weather
(the hostel's degree-day model, analytics.selectors.weather), against each hostel's target and the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from analytics.models import HostelTarget
from analytics.selectors.carbon import carbon_kg_for, price_per_kwh_for
from analytics.selectors.energy import (
    HOURS_PER_YEAR,
    WINDOW_DAYS,
    Insight,
    Week,
    baseload_of,
    bed_days,
    insights_for,
    out_of_hours_of,
    subject_for_hostel,
    subject_history,
    subject_hours,
)
from meters.models import Hostel

MIN_GAP = 0.10  # a hostel less than 10 % worse than the best is not an opportunity


@dataclass(frozen=True)
class LeagueRow:
    hostel_id: int
    name: str
    place: int | None  # None: no occupied beds or no energy last week
    kwh_per_bed_day: float | None  # weather-normalized
    previous_kwh_per_bed_day: float | None
    target: float | None
    against_target: float | None  # 0.12 = 12 % above target
    week: Week
    of: int = 0  # hostels ranked


def _per_bed_day(week: Week) -> float | None:
    return week.normalized


def league_of(*, hostels: list[Hostel], today: dt.date) -> list[LeagueRow]:
    """Hostels ranked by last week's weather-normalized kWh per occupied bed and day (lowest first)."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    targets = dict(HostelTarget.objects.filter(hostel__in=hostels).values_list("hostel_id", "kwh_per_bed_day"))
    rows = []
    for hostel in hostels:
        subject = subject_for_hostel(hostel)
        history = subject_history(subject, today=today)
        week = history.week(monday)
        previous = history.week(monday - dt.timedelta(days=7))
        per_bed = _per_bed_day(week) if week.kwh > 0 else None
        target = targets.get(hostel.pk)
        rows.append(
            LeagueRow(
                hostel_id=hostel.pk,
                name=hostel.name,
                place=None,
                kwh_per_bed_day=per_bed,
                previous_kwh_per_bed_day=_per_bed_day(previous) if previous.kwh > 0 else None,
                target=target,
                against_target=per_bed / target - 1 if per_bed is not None and target else None,
                week=week,
            )
        )
    ranked = sorted((r for r in rows if r.kwh_per_bed_day is not None), key=lambda r: (r.kwh_per_bed_day, r.name))
    places = {row.hostel_id: i + 1 for i, row in enumerate(ranked)}
    return sorted(
        (LeagueRow(**{**row.__dict__, "place": places.get(row.hostel_id), "of": len(ranked)}) for row in rows),
        key=lambda r: (r.place is None, r.place or 0, r.name),
    )


def league_for_user(*, user: Any, today: dt.date | None = None) -> list[LeagueRow]:
    """The rows of the hostels the user may see, with their places in their sites' whole league (as the
    residents' page shows them): a warden learns where their hostel stands, never another's figures."""
    visible = set(Hostel.objects.visible_to(user).values_list("pk", flat=True))
    hostels = list(
        Hostel.objects.filter(site__hostels__in=visible).distinct().select_related("site", "customer__tariff")
    )
    rows = league_of(hostels=hostels, today=today or timezone.localdate())
    return [row for row in rows if row.hostel_id in visible]


# ---- opportunities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opportunity:
    """Something worth doing, what it is worth in a year, and the figures behind it."""

    hostel_id: int
    hostel: str
    kind: str
    title: str
    kwh_per_year: float
    cost_per_year: float | None
    currency: str
    kg_co2_per_year: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _HostelFigures:
    hostel: Hostel
    beds: float
    price: float | None
    baseload_kw: float | None
    night_kwh_per_day: float | None
    insights: list[Insight]


def _figures(hostel: Hostel, today: dt.date) -> _HostelFigures:
    subject = subject_for_hostel(hostel)
    yesterday = today - dt.timedelta(days=1)
    start = today - dt.timedelta(days=WINDOW_DAYS)
    hours = subject_hours(subject, start, yesterday)
    base = baseload_of(hours)
    night = out_of_hours_of(hours, is_open=subject.is_open)
    days = len({at.date() for at, _ in hours}) or 1
    return _HostelFigures(
        hostel=hostel,
        beds=bed_days(subject.occupancy, start, yesterday) / WINDOW_DAYS,
        price=price_per_kwh_for(meter_ids=subject.meter_ids, hostel=hostel),
        baseload_kw=base.kw if base else None,
        night_kwh_per_day=night.kwh_out / days if night else None,
        insights=insights_for(subject=subject, today=today),
    )


def _opportunity(f: _HostelFigures, kind: str, title: str, kwh: float, evidence: dict[str, Any]) -> Opportunity:
    return Opportunity(
        hostel_id=f.hostel.pk,
        hostel=f.hostel.name,
        kind=kind,
        title=title,
        kwh_per_year=kwh,
        cost_per_year=kwh * f.price if f.price is not None else None,
        currency=f.hostel.site.currency,
        kg_co2_per_year=carbon_kg_for(kwh=kwh, site=f.hostel.site),
        evidence=evidence,
    )


def _money(value: float | None, currency: str) -> str:
    symbol = {"EUR": "€", "GBP": "£", "USD": "$"}.get(currency, currency + " ")
    return f"about {symbol}{value:,.0f} a year" if value is not None else "no tariff to price it"


def opportunities_of(*, hostels: list[Hostel], today: dt.date) -> list[Opportunity]:
    """Opportunities among these hostels, worth most first: baseload and night use per bed above the best
    of them, use above target, vacation use above last year's, and a rise week on week."""
    figures = [_figures(h, today) for h in hostels]
    found: list[Opportunity] = []
    for key, label, attr, hours in (
        ("baseload", "night baseload", "baseload_kw", HOURS_PER_YEAR),
        ("night_use", "night-time use", "night_kwh_per_day", 365.0),
    ):
        per_bed = {f.hostel.pk: getattr(f, attr) / f.beds for f in figures if getattr(f, attr) and f.beds}
        if len(per_bed) < 2:
            continue
        best = min(figures, key=lambda f: per_bed.get(f.hostel.pk, float("inf")))
        for f in figures:
            mine = per_bed.get(f.hostel.pk)
            if mine is None or f is best or mine <= per_bed[best.hostel.pk] * (1 + MIN_GAP):
                continue
            gap = mine / per_bed[best.hostel.pk] - 1
            kwh = (mine - per_bed[best.hostel.pk]) * f.beds * hours
            opportunity = _opportunity(
                f,
                key,
                "",
                kwh,
                {
                    "per_occupied_bed": round(mine, 4),
                    "best": best.hostel.name,
                    "best_per_occupied_bed": round(per_bed[best.hostel.pk], 4),
                    "occupied_beds": round(f.beds, 1),
                    "unit": "kW" if key == "baseload" else "kWh a day",
                    "window_days": WINDOW_DAYS,
                },
            )
            title = f"{f.hostel.name}'s {label} is {gap:.0%} above {best.hostel.name}'s per bed: " + _money(
                opportunity.cost_per_year, opportunity.currency
            )
            found.append(Opportunity(**{**opportunity.__dict__, "title": title}))
    for f in figures:
        by_key = {i.key: i for i in f.insights}
        vacation = by_key.get("vacation")
        if vacation and vacation.evidence.get("last_year_kwh_per_day") and vacation.kwh_per_year:
            last = vacation.evidence["last_year_kwh_per_day"]
            now = vacation.evidence["kwh_per_day"]
            if now > last * (1 + MIN_GAP):
                kwh = vacation.kwh_per_year * (1 - last / now)
                o = _opportunity(f, "vacation", "", kwh, vacation.evidence)
                title = (
                    f"{f.hostel.name} used {now / last - 1:.0%} more a day in {vacation.evidence['vacation']} "
                    f"than last year: {_money(o.cost_per_year, o.currency)}"
                )
                found.append(Opportunity(**{**o.__dict__, "title": title}))
        week = by_key.get("week_on_week")
        if week and week.value is not None and week.value > MIN_GAP and week.kwh_per_year:
            o = _opportunity(f, "week_on_week", "", week.kwh_per_year, week.evidence)
            how = f" (normalized for {week.normalized})" if week.normalized else ""
            title = f"{f.hostel.name} rose {week.value:.0%} week on week{how}: " + _money(o.cost_per_year, o.currency)
            found.append(Opportunity(**{**o.__dict__, "title": title}))
    for row in league_of(hostels=hostels, today=today):
        f = next(f for f in figures if f.hostel.pk == row.hostel_id)
        if row.against_target is not None and row.against_target > 0 and row.kwh_per_bed_day and row.target:
            kwh = (row.kwh_per_bed_day - row.target) * f.beds * 365
            o = _opportunity(
                f,
                "target",
                "",
                kwh,
                {"kwh_per_bed_day": round(row.kwh_per_bed_day, 3), "target": row.target, "occupied_beds": f.beds},
            )
            title = f"{f.hostel.name} is {row.against_target:.0%} above its target per bed: " + _money(
                o.cost_per_year, o.currency
            )
            found.append(Opportunity(**{**o.__dict__, "title": title}))
    return sorted(found, key=lambda o: (-(o.cost_per_year or 0.0), -o.kwh_per_year, o.hostel, o.kind))


def opportunities_for_user(*, user: Any, today: dt.date | None = None) -> list[Opportunity]:
    """Opportunities among the hostels the user may see (never compared with a hostel they may not see)."""
    hostels = list(Hostel.objects.visible_to(user).select_related("site", "customer__tariff"))
    return opportunities_of(hostels=hostels, today=today or timezone.localdate())


# ---- the residents' page --------------------------------------------------------------------------

TIPS = {
    "baseload": "Switch off chargers, consoles and screens at the wall at night: the night-time floor is the waste.",
    "out_of_hours": "A lot is used at night: heaters and kettles left on after 23:00 add up.",
    "vacation": "Going away? Unplug the fridge and switch the heater off before you leave.",
    "week_on_week": "Use went up last week: close windows while heating and dry clothes outside when you can.",
}
GENERAL_TIPS = [
    "Turn the heater down one step: about 6 % less energy for each degree.",
    "Boil only the water you need in the kettle.",
    "Lights off when the last person leaves a room.",
]


@dataclass(frozen=True)
class ResidentSummary:
    """What a hostel's residents may see: no people, no rooms."""

    hostel: str
    this_week_kwh: float
    last_week_kwh: float
    change: float | None  # weather- and occupancy-normalized where possible
    place: int | None
    of: int
    tips: list[str]


def resident_summary_for(*, hostel: Hostel, today: dt.date | None = None) -> ResidentSummary:
    """This week's whole days so far against the same days of last week (per occupied bed), the hostel's
    place in its site's league, three tips from its largest insights. On a Monday: last week against the one before."""
    today = today or timezone.localdate(timezone.now(), hostel.site.tz)
    subject = subject_for_hostel(hostel)
    monday = today - dt.timedelta(days=today.weekday())
    days = (today - monday).days
    if days == 0:
        monday, days = monday - dt.timedelta(days=7), 7
    before = monday - dt.timedelta(days=7)
    history = subject_history(subject, today=today)
    this_kwh = history.kwh(monday, monday + dt.timedelta(days=days - 1))
    last_kwh = history.kwh(before, before + dt.timedelta(days=days - 1))
    this_beds = history.bed_days(monday, monday + dt.timedelta(days=days - 1))
    last_beds = history.bed_days(before, before + dt.timedelta(days=days - 1))
    change = None
    if last_kwh > 0 and this_beds and last_beds:
        change = (this_kwh / this_beds) / (last_kwh / last_beds) - 1
    league = league_of(hostels=list(Hostel.objects.filter(site_id=hostel.site_id).select_related("site")), today=today)
    place = next((row.place for row in league if row.hostel_id == hostel.pk), None)
    insights = sorted(
        (i for i in insights_for(subject=subject, today=today) if i.key in TIPS and i.cost_per_year),
        key=lambda i: -(i.cost_per_year or 0),
    )
    tips = [TIPS[i.key] for i in insights][:3]
    tips += [tip for tip in GENERAL_TIPS if tip not in tips][: 3 - len(tips)]
    return ResidentSummary(
        hostel=hostel.name,
        this_week_kwh=this_kwh,
        last_week_kwh=last_kwh,
        change=change,
        place=place,
        of=sum(1 for row in league if row.place is not None),
        tips=tips,
    )
