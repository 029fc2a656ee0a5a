"""Backtest a forecaster on one meter's imported readings (with its site's weather and calendar)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from meters.models import Meter, Site, Weather
from predictions.forecasting.series import meter_hourly, site_holidays, site_weather, zeros_as_missing
from predictions.ml.forecasting import SeriesInputs
from predictions.ml.forecasting_backtest import BacktestResult, backtest


def _meter_site(meter: Meter, site_code: str | None) -> Site | None:
    if site_code:
        return Site.objects.get(code=site_code)
    if meter.hostel_id:
        return meter.hostel.site if meter.hostel else None
    # A feeder imported without a hostel: the one site that has weather, if there is exactly one.
    sites = list(Site.objects.filter(pk__in=Weather.objects.values("site_id").distinct())[:2])
    return sites[0] if len(sites) == 1 else None


def meter_backtest(
    *,
    serial: str,
    train_until: dt.datetime,
    until: dt.datetime,
    horizon: int = 24,
    refit_days: int = 30,
    site_code: str | None = None,
) -> tuple[BacktestResult, dict[str, object]]:
    """Rolling-origin backtest of one meter; returns the result and what it was run on."""
    meter = Meter.objects.select_related("hostel__site").get(serial=serial)
    site = _meter_site(meter, site_code)
    load = zeros_as_missing(meter_hourly(meter=meter, end=until))
    context: dict[str, object] = {
        "meter": serial,
        "site": site.code if site else None,
        "hours_with_data": int(load.count()),
    }
    if load.count() == 0:
        return BacktestResult("insufficient_history", "the meter has no readings", {}, pd.DataFrame(), 0.0), context
    start = load.index.min().to_pydatetime()
    temperature = site_weather(site_id=site.pk if site else None, start=start, end=until + dt.timedelta(days=40))
    context["weather_hours"] = 0 if temperature is None else len(temperature)
    inputs = SeriesInputs(
        load=load,
        timezone=site.timezone if site else "UTC",
        temperature=temperature,
        holidays=site_holidays(site_id=site.pk if site else None),
    )
    result = backtest(
        inputs, train_until=pd.Timestamp(train_until), until=pd.Timestamp(until), horizon=horizon, refit_days=refit_days
    )
    return result, context
