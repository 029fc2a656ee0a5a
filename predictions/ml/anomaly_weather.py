"""The weather part of the anomaly baseline: each meter's change-point response to temperature."""

from __future__ import annotations

import pandas as pd

from predictions.ml.anomaly_features import WeatherResponse, presence, weather_response_fit


def weather_responses_fit(valid: pd.DataFrame) -> dict[int, WeatherResponse]:
    """Each meter's heating and cooling response (change-point slopes), fitted on hourly means of its
    training rows (the weather is hourly, and a quarter of the rows fit four times faster)."""
    weekend = (valid["dow"].to_numpy(dtype=float) >= 5) | (valid["calendar"].to_numpy(dtype=float) == 4)
    # Hourly means: the weather is hourly, and a quarter of the rows fit four times faster.
    hourly = (
        pd.DataFrame(
            {
                "meter_id": valid["meter_id"].to_numpy(),
                "at": pd.DatetimeIndex(valid["ts"]).floor("1h").asi8,
                "kwh_h": valid["kwh_h"].to_numpy(dtype=float),
                "temp": valid["temp"].to_numpy(dtype=float),
                "hour": valid["hour_i"].to_numpy(),
                "weekend": weekend.astype(float),
                "present": presence(valid),
            }
        )
        .groupby(["meter_id", "at"], sort=False)
        .mean()
        .reset_index()
    )
    temp, kwh_h, hour, weekend_h, present = (
        hourly[c].to_numpy(dtype=float) for c in ("temp", "kwh_h", "hour", "weekend", "present")
    )
    responses = {}
    for meter_id, index in hourly.groupby("meter_id").indices.items():
        responses[int(str(meter_id))] = weather_response_fit(
            kwh_h=kwh_h[index],
            temp=temp[index],
            hour=hour[index].astype(int),
            weekend=weekend_h[index],
            present=present[index],
        )
    return responses
