"""One sentence a warden understands, in the hostel's local time, and the cost of the excess at the tariff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from customers.models import Tariff
from meters.models import Meter
from predictions.detection.days import DAY_KINDS, day_explain
from predictions.detection.frames import MeterInfo


def tariff_for(meter: Meter) -> Tariff | None:
    """The customer's tariff: the meter's own customer, else its room's, else its hostel's."""
    for customer in (
        meter.customer,
        meter.room.customer if meter.room else None,
        meter.hostel.customer if meter.hostel else None,
    ):
        if customer is not None:
            return customer.tariff
    return None


def excess_cost(
    *, tariff: Tariff | None, excess_by_interval: list[tuple[dt.datetime, float]], tz: str
) -> Decimal | None:
    if tariff is None:
        return None
    zone = ZoneInfo(tz)
    total = sum(
        (Decimal(str(max(kwh, 0.0))) * tariff.price_at(when.astimezone(zone)) for when, kwh in excess_by_interval),
        Decimal("0"),
    )
    return total.quantize(Decimal("0.01"))


def _span(start: dt.datetime, end: dt.datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    if a.date() == b.date() or (b - a <= dt.timedelta(hours=24) and b.time() == dt.time(0)):
        return f"from {a:%H:%M} to {b:%H:%M} on {a:%d %b}"
    return f"from {a:%d %b %H:%M} to {b:%d %b %H:%M}"


def _cause(kind: str, temperature: float | None) -> str:
    climate = ""
    if temperature is not None and temperature >= 24:
        climate = "AC"
    elif temperature is not None and temperature <= 12:
        climate = "a heater"
    return {
        "vacant_usage": f"likely {climate or 'an appliance'} left on in an empty room",
        "night_usage": "likely heavy appliance use at night",
        "spike": "a short burst, likely a high-power appliance or a fault",
        "sustained_excess": f"likely {climate or 'an appliance'} left running",
        "high_consumption": f"likely {climate or 'an appliance'} in heavy use",
        "drift": "consumption creeping up; check for a failing appliance or a faulty meter",
        "low_consumption": "far below normal; check the supply and the meter",
    }.get(kind, "")


def explain(
    *,
    info: MeterInfo,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    expected_kwh: float,
    actual_kwh: float,
    occupants: float | None,
    temperature: float | None,
    cost: Decimal | None,
    currency: str,
    extra: dict[str, float] | None = None,
) -> str:
    extra = extra or {}
    if kind in DAY_KINDS:
        return day_explain(
            info=info, kind=kind, start=start, end=end, actual=actual_kwh, usual=expected_kwh, extra=extra
        )
    who = info.room_label
    if info.kind == "room":
        who += f", {info.bed_type} beds"
        if occupants is not None:
            who += f", {round(occupants)} occupant{'s' if round(occupants) != 1 else ''}"
    when = _span(start, end, info.timezone)
    hours = (end - start).total_seconds() / 3600
    if kind == "dead_meter":
        return (
            f"{who}: meter {info.serial} reported nothing or zero {when} ({hours:.1f} h); "
            "it is probably dead or disconnected."
        )
    if kind == "flat_line":
        return f"{who}: meter {info.serial} repeated the same reading {when} ({hours:.1f} h); it is probably stuck."
    if kind == "meter_replacement":
        return f"{who}: no readings {when} while meter {info.serial} was replaced; consumption in that time is unknown."
    if kind == "register_reset":
        return (
            f"{who}: meter {info.serial} gave an impossible reading ({actual_kwh:.2f} kWh) {when}; "
            "likely a register reset or meter swap."
        )
    if kind in ("voltage_sag", "voltage_swell"):
        word = "fell to" if kind == "voltage_sag" else "rose to"
        return (
            f"{who}: voltage {word} {extra.get('voltage', 0):.0f} V (nominal {info.nominal_voltage:.0f} V) {when}; "
            "appliances may trip or be damaged; check the supply."
        )
    if kind == "low_power_factor":
        return (
            f"{who}: power factor dropped to {extra.get('power_factor', 0):.2f} {when}; "
            "likely a motor or faulty equipment."
        )
    weather = f" at {temperature:.0f} °C" if temperature is not None else ""
    sentence = f"{who}: {actual_kwh:.1f} kWh {when} where {expected_kwh:.1f} kWh was expected{weather}"
    if kind == "main_imbalance":
        sentence = (
            f"{who}: {actual_kwh:.1f} kWh {when}, {actual_kwh - expected_kwh:.1f} kWh more than its rooms "
            "plus the usual "
            "common load; possible unmetered load, bypass or a faulty room meter"
        )
    else:
        cause = _cause(kind, temperature)
        if cause:
            sentence += f"; {cause}"
    if cost is not None and cost > 0:
        sentence += f"; about {cost:.2f} {currency} wasted"
    return sentence + "."
