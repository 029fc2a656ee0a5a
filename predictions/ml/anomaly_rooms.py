"""Rooms against their peers in the anomaly baseline (`predictions.ml.anomaly`).

Which rooms the held-back week describes (`steady_rooms`, `unsettled_rooms`), and a steady room judged
around its peers' centre with its own rise taken out (`own_trends`, `centres_from_peers`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictions.ml.anomaly_features import PEER_MINIMUM, MeterStats

QUIET_SHARE = 0.6  # a held-back week below this share of a room's lived-in level does not show its habits


def unsettled_rooms(rows: pd.DataFrame, held: pd.Series, level: pd.DataFrame, steady: set[int]) -> set[int]:
    """Rooms lived in during the held-back week that the week does not show as their level weeks do.

    Either other residents than in its level weeks (not `steady`: some not yet back from a vacation), or
    far quieter (its residents away more than they were: less than `QUIET_SHARE` of its level weeks'
    occupied kW). Such a week's spreads are those of a quieter room: the evenings and appliances of the
    full room, back the week after, read as excess (the early-summer week after Easter). A room whose
    held-back week is busier than its level weeks (a drift) is not unsettled: its spreads stay its own.
    """
    rooms = (rows["capacity"].fillna(0.0) > 0) & (rows["is_main"] == 0)
    lived = rows["occupants"].fillna(0.0) > 0
    use = rows["kwh"] / rows["interval_h"]
    now = use[rooms & held & lived].groupby(rows["meter_id"]).mean()
    level_lived = level["occupants"].fillna(0.0) > 0
    before = (level["kwh"] / level["interval_h"])[level_lived].groupby(level["meter_id"]).mean()
    quiet = {int(str(m)) for m in now.index.intersection(before.index) if now[m] < QUIET_SHARE * before[m]}
    return {int(str(m)) for m in now.index if int(str(m)) not in steady} | quiet


def steady_rooms(rows: pd.DataFrame, held: pd.Series, level: pd.DataFrame) -> set[int]:
    """Rooms lived in during the held-back week by as many residents as in the weeks their level came from."""
    rooms = (rows["capacity"].fillna(0.0) > 0) & (rows["is_main"] == 0)
    occupants = rows["occupants"].fillna(0.0)
    now = occupants[rooms & held & (occupants > 0)].groupby(rows["meter_id"]).median()
    level_occupants = level["occupants"].fillna(0.0)
    before = level_occupants[level_occupants > 0].groupby(level["meter_id"]).median()
    both = now.index.intersection(before.index)
    return {int(str(m)) for m in both if round(float(now[m])) == round(float(before[m]))}


def _peers_of(
    meter_id: int, group: dict[int, object], members: dict[object, list[int]], everyone: list[int]
) -> list[int]:
    """The meter's hostel's steady rooms, or all steady rooms when its hostel has fewer than `PEER_MINIMUM`."""
    peers = members.get(group.get(meter_id), [])
    return peers if len(peers) >= PEER_MINIMUM else everyone


def _hostels(rows: pd.DataFrame, steady: set[int]) -> tuple[dict[int, object], dict[object, list[int]], list[int]]:
    group: dict[int, object] = (
        {int(str(k)): v for k, v in rows.groupby("meter_id")["hostel_id"].first().items()}
        if "hostel_id" in rows.columns
        else {}
    )
    members: dict[object, list[int]] = {}
    for meter_id in sorted(steady):
        members.setdefault(group.get(meter_id), []).append(meter_id)
    return group, members, sorted(steady)


def own_trends(rows: pd.DataFrame, held: pd.Series, steady: set[int]) -> dict[int, tuple[float, float]]:
    """How much faster than its peers each steady room's residual rose through the held-back week.

    Per room: (slope beyond the median slope of its peers, per day; the held-back rows' middle, in days).
    A shared slope (the weather turning, the calendar) stays in every room's spread; a room's own rise
    is a change of its level, not its spread, and is taken out before the spreads are measured.
    """
    if not steady:
        return {}
    days = pd.DatetimeIndex(rows["ts"]).as_unit("ns").asi8 / 86_400e9
    use = held.to_numpy() & (rows["occupants"].fillna(0.0).to_numpy() > 0)
    meter = rows["meter_id"].to_numpy()
    rel = rows["rel"].to_numpy(dtype=float)
    slopes: dict[int, tuple[float, float]] = {}
    for meter_id in steady:
        pick = use & (meter == meter_id)
        if pick.sum() < 48:
            continue
        t, y = days[pick], rel[pick]
        lo, hi = np.quantile(y, [0.05, 0.95])  # spikes and appliances do not make a trend
        middle = float(t.mean())
        slopes[meter_id] = (float(np.polyfit(t - middle, np.clip(y, lo, hi), 1)[0]), middle)
    group, members, everyone = _hostels(rows, set(slopes))
    return {
        m: (slope - float(np.median([slopes[p][0] for p in _peers_of(m, group, members, everyone)])), middle)
        for m, (slope, middle) in slopes.items()
    }


def centres_from_peers(meters: dict[int, MeterStats], steady: set[int], rows: pd.DataFrame) -> None:
    """Steady rooms take the median centre (`bias`, `win_med`) of their hostel's steady rooms' residuals.

    The held-back week re-centres each meter's residuals on what the model got wrong there. For a room
    that is two things: what the model misses for every room that week (the weather, the calendar), and
    what the room itself did. The second is the room's own level, which its level weeks already learnt
    when its residents are the same; re-centring on it absorbs a change of the room's own consumption.
    A room whose use grows a little every day (a drift) was re-centred on its own rise at every weekly
    retrain and never stood out. A room whose residents changed keeps its own centre (its level weeks do
    not describe it). Changes `meters` in place.
    """
    steady = {m for m in steady if m in meters}
    group, members, everyone = _hostels(rows, steady)
    updates: dict[int, tuple[float, list[float]]] = {}
    for meter_id in steady:
        peers = [meters[m] for m in _peers_of(meter_id, group, members, everyone)]
        width = len(meters[meter_id].win_med)
        centre = [float(np.median([p.win_med[i] for p in peers])) for i in range(width)]
        updates[meter_id] = (float(np.median([p.bias for p in peers])), centre)
    for meter_id, (bias, centre) in updates.items():
        meters[meter_id].bias, meters[meter_id].win_med = bias, centre
