"""Which rooms the held-back week of the anomaly baseline does not describe (`predictions.ml.anomaly`)."""

from __future__ import annotations

import pandas as pd

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
