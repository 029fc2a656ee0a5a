"""The hostel's meters as each other's reference: weather all rooms share, and a main meter seen through its rooms.

Used by the anomaly baseline (`predictions.ml.anomaly`) when it predicts with `peers=True`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import PEER_MINIMUM, presence

PEER_QUANTILE = 0.9
PEER_ABOVE = 2  # rooms always left above the shared rise: a fault or two never sets it
PEER_UNCERTAINTY = 0.5  # the shared rise is known to about half of itself for any one room


def peer_rise(frame: pd.DataFrame, resid_kw: np.ndarray) -> pd.Series:
    """An upper quantile of the occupied rooms' excess (kW) per hostel and moment, where enough rooms report.

    The `PEER_QUANTILE` of the rooms' excess, but never higher than the value with `PEER_ABOVE` rooms
    above it, so a small hostel's faulty room cannot set its own allowance. Indexed by (hostel, moment).
    """
    empty = pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []], names=["hostel", "ts"]))
    if "hostel_id" not in frame.columns or not len(frame):
        return empty
    rooms = frame["is_main"].to_numpy(dtype=float) == 0
    present = rooms & (presence(frame) > 0) & np.isfinite(resid_kw)
    data = pd.DataFrame(
        {
            "hostel": frame["hostel_id"].to_numpy()[present],
            "ts": pd.DatetimeIndex(frame["ts"]).asi8[present],
            "resid": np.asarray(resid_kw, dtype=float)[present],
        }
    ).sort_values(["hostel", "ts", "resid"], kind="stable")
    if data.empty:
        return empty
    grouped = data.groupby(["hostel", "ts"], sort=False)
    count = grouped["resid"].transform("size").to_numpy()
    rank = grouped.cumcount().to_numpy()
    target = np.minimum(np.floor(PEER_QUANTILE * (count - 1)), count - 1 - PEER_ABOVE)
    chosen = data[(rank == target) & (count >= PEER_MINIMUM)]
    return pd.Series(chosen["resid"].to_numpy(), index=pd.MultiIndex.from_frame(chosen[["hostel", "ts"]]))


def peer_usual_fit(frame: pd.DataFrame, resid_kw: np.ndarray) -> dict[int, list[float]]:
    """The usual `peer_rise` of each hostel per local hour, on rows of ordinary weather the baseline knows.

    An upper quantile of many rooms is above zero at any moment (people switch things on); only its
    rise above that usual level is shared weather.
    """
    rise = peer_rise(frame, resid_kw)
    if rise.empty:
        return {}
    hours = pd.Series(
        np.floor(frame["hour"].to_numpy(dtype=float)).astype(int) % 24, index=pd.DatetimeIndex(frame["ts"]).asi8
    )
    hours = hours[~hours.index.duplicated()]
    table = pd.DataFrame(
        {
            "hostel": rise.index.get_level_values(0),
            "hour": hours.reindex(rise.index.get_level_values(1)).to_numpy(),
            "rise": rise.to_numpy(),
        }
    ).dropna()
    usual: dict[int, list[float]] = {}
    for hostel, rows in table.groupby("hostel"):
        overall = float(rows["rise"].median())
        by_hour = rows.groupby("hour")["rise"].median()
        usual[int(str(hostel))] = [float(by_hour.get(h, overall)) for h in range(24)]
    return usual


def peer_weather_kw(
    frame: pd.DataFrame,
    resid_kw: np.ndarray,
    usual: dict[int, list[float]] | None = None,
    weather_kw: np.ndarray | None = None,
    usual_weather: dict[int, list[float]] | None = None,
) -> np.ndarray:
    """What each meter's excess (kW) shares with the occupied rooms of its hostel at the same moment.

    Rooms of a hostel see the same weather: when the first hot (or cold) days come and the baseline
    has never seen such weather, most rooms with someone in rise together by a similar number of kW (an
    air conditioner's or heater's draw), whatever their usual level, so the shift is measured in kW, not
    relative to each room. Not every room has the appliance and set-points differ, so the shared rise is
    an upper quantile of the occupied rooms' excess (`peer_rise`), less its usual level at that hour
    (`usual`, from training); a fault in one room stays above it. An empty room gets no allowance (its
    appliances should be off). A main meter sees its rooms: its allowance is the part of its rooms'
    excess the shared rise explains, summed, and never more than its own excess, so a fault in one room,
    or load no room sees, still shows on the main.

    `weather_kw`, each reading's own weather-driven demand (the baseline's heating and cooling slopes),
    makes the rise comparable between rooms whose slope the model learnt and rooms whose it did not:
    from a window of mild weather a noisy room's heater often leaves no significant slope, and in the
    first cold snap that room rises by the heater's whole draw while its neighbours with a slope rise
    only by what their slope missed. Measured beyond the weather-free expectation (excess plus own
    weather demand), the rise is the same for both: each room is allowed that rise less what its own
    slope already expects, or the rise beyond the full expectations, whichever is larger. Its usual level
    (`usual_weather`, fitted like `usual` on the excess plus own weather demand) is taken off, so in
    weather the model knows a room with no slope is allowed nothing more than before.
    """
    out = np.zeros(len(resid_kw))
    rise = peer_rise(frame, resid_kw)
    if rise.empty:
        return out
    usual = usual or {}
    hostels = frame["hostel_id"].to_numpy()
    moments = pd.DatetimeIndex(frame["ts"]).asi8
    keys = pd.MultiIndex.from_arrays([hostels, moments])
    hours = np.floor(frame["hour"].to_numpy(dtype=float)).astype(int) % 24 if "hour" in frame.columns else None
    level = _usual_level(hostels, hours, usual)
    common = np.clip(np.nan_to_num(rise.reindex(keys).to_numpy(), nan=0.0) - level, 0.0, None)
    rooms = frame["is_main"].to_numpy(dtype=float) == 0
    present = rooms & (presence(frame) > 0) & np.isfinite(resid_kw)
    if weather_kw is not None:
        own = np.nan_to_num(np.asarray(weather_kw, dtype=float))
        beyond = peer_rise(frame, np.asarray(resid_kw, dtype=float) + own)
        if not beyond.empty:
            level_w = _usual_level(hostels, hours, usual_weather) if usual_weather else level
            demand = np.clip(np.nan_to_num(beyond.reindex(keys).to_numpy(), nan=0.0) - level_w - own, 0.0, None)
            common = np.maximum(common, demand)
    out[present] = common[present]
    parts = pd.Series(np.where(present, np.clip(np.nan_to_num(resid_kw), 0.0, common), 0.0), index=keys)
    by_moment = parts[rooms].groupby(level=[0, 1]).sum()
    mains = ~rooms & (hostels != 0)
    if mains.any() and not by_moment.empty:
        rooms_part = np.nan_to_num(by_moment.reindex(keys).to_numpy(), nan=0.0)
        own = np.clip(np.nan_to_num(resid_kw), 0.0, None)
        out[mains] = np.minimum(rooms_part, own)[mains]
    return out


def _usual_level(hostels: np.ndarray, hours: np.ndarray | None, usual: dict[int, list[float]]) -> np.ndarray:
    """Each reading's usual peer rise at its hour, from a `peer_usual_fit` table (0 where none)."""
    level = np.zeros(len(hostels))
    if hours is not None:
        for hostel, by_hour in usual.items():
            mine = hostels == hostel
            level[mine] = np.asarray(by_hour)[hours[mine]]
    return level


def _room_sums(frame: pd.DataFrame, values: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Sum and count of `values` over each hostel's room meters at each moment, indexed by (hostel, moment)."""
    rooms = frame["is_main"].to_numpy(dtype=float) == 0
    data = pd.DataFrame(
        {
            "hostel": frame["hostel_id"].to_numpy()[rooms],
            "ts": pd.DatetimeIndex(frame["ts"]).asi8[rooms],
            "v": np.asarray(values, dtype=float)[rooms],
        }
    )
    grouped = data.groupby(["hostel", "ts"])["v"]
    return grouped.sum(), grouped.count()


def main_common_fit(frame: pd.DataFrame) -> dict[int, tuple[int, list[float]]]:
    """Each hostel main's usual load beyond its rooms (kW, per local hour), and how many rooms it was summed over.

    Learnt on moments when every room meter of the hostel reported: corridors, kitchens, lifts.
    """
    if "hostel_id" not in frame.columns or not len(frame):
        return {}
    mains = (frame["is_main"].to_numpy(dtype=float) == 1) & (frame["hostel_id"].to_numpy() != 0)
    if not mains.any():
        return {}
    kwh_h = frame["kwh"].to_numpy(dtype=float) / frame["interval_h"].to_numpy(dtype=float)
    total, count = _room_sums(frame, kwh_h)
    if total.empty:
        return {}
    rooms_of = count.groupby(level=0).max()
    out: dict[int, tuple[int, list[float]]] = {}
    main_rows = frame[mains]
    for meter_id, rows in main_rows.groupby("meter_id"):
        hostel = rows["hostel_id"].iloc[0]
        keys = pd.MultiIndex.from_arrays([rows["hostel_id"].to_numpy(), pd.DatetimeIndex(rows["ts"]).asi8])
        n = int(rooms_of.get(hostel, 0))
        complete = count.reindex(keys).to_numpy() == n
        if n < PEER_MINIMUM or complete.sum() < 48:
            continue
        common = (rows["kwh"] / rows["interval_h"]).to_numpy() - total.reindex(keys).to_numpy()
        hours = np.floor(rows["hour"].to_numpy(dtype=float)).astype(int) % 24
        table = pd.DataFrame({"hour": hours[complete], "common": common[complete]})
        overall = float(table["common"].median())
        by_hour = table.groupby("hour")["common"].median()
        out[int(str(meter_id))] = (n, [float(by_hour.get(h, overall)) for h in range(24)])
    return out


def main_bottom_up_kw(
    frame: pd.DataFrame, expected_h: np.ndarray, commons: dict[int, tuple[int, list[float]]]
) -> np.ndarray:
    """A main meter's expected demand built from its rooms: their expected kW summed, plus its usual common load.

    NaN where the meter is not a main with a learnt common load, or not every room reported at that moment.
    The main's own model knows the hostel only as a whole and goes flat beyond what its window held (the
    residents' return at the start of term, the first heat); the rooms' models know each room's occupancy.
    """
    out = np.full(len(expected_h), np.nan)
    if not commons or "hostel_id" not in frame.columns:
        return out
    total, count = _room_sums(frame, expected_h)
    if total.empty:
        return out
    meter_ids = frame["meter_id"].to_numpy()
    hours = np.floor(frame["hour"].to_numpy(dtype=float)).astype(int) % 24
    moments = pd.DatetimeIndex(frame["ts"]).asi8
    hostels = frame["hostel_id"].to_numpy()
    for meter_id, (n, common) in commons.items():
        mine = np.flatnonzero(meter_ids == meter_id)
        if not len(mine):
            continue
        keys = pd.MultiIndex.from_arrays([hostels[mine], moments[mine]])
        complete = count.reindex(keys).to_numpy() == n
        sums = total.reindex(keys).to_numpy() + np.asarray(common)[hours[mine]]
        out[mine] = np.where(complete, sums, np.nan)
    return out
