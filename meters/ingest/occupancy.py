"""Room occupancy from a roster CSV: room, from, to, occupants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from django.db import transaction

from meters.models import Occupancy, Room


@dataclass
class OccupancyResult:
    """Periods stored, replaced and rejected (with reasons)."""

    stored: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"accepted": self.stored, "rejected": self.rejected, "reasons": self.reasons[:20]}


def _room_index() -> dict[str, Room]:
    """Rooms by 'HOSTEL-NUMBER', 'SITE/HOSTEL-NUMBER' and, when unique, by number alone."""
    index: dict[str, Room] = {}
    numbers: dict[str, list[Room]] = {}
    for room in Room.objects.select_related("hostel__site"):
        index[f"{room.hostel.code}-{room.number}".lower()] = room
        index[f"{room.hostel.site.code}/{room.hostel.code}-{room.number}".lower()] = room
        numbers.setdefault(room.number.lower(), []).append(room)
    for number, rooms in numbers.items():
        if len(rooms) == 1:
            index.setdefault(number, rooms[0])
    return index


def _moment(value: object, tz: ZoneInfo) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"unparseable date {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def occupancy_import_file(*, path: Path) -> OccupancyResult:
    """Store roster periods; a period for the same room and start replaces the old one."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"room", "from", "occupants"} - set(frame.columns)
    if missing:
        raise ValueError(f"missing column(s) {', '.join(sorted(missing))}; expected room,from,to,occupants")
    rooms = _room_index()
    result = OccupancyResult()
    periods: list[Occupancy] = []
    for number, record in enumerate(frame.to_dict(orient="records"), start=2):
        room = rooms.get(str(record["room"]).strip().lower())
        try:
            if room is None:
                raise ValueError(f"unknown room {record['room']!r} (use HOSTELCODE-NUMBER)")
            tz = ZoneInfo(room.hostel.site.timezone)
            start, end = _moment(record["from"], tz), _moment(record.get("to"), tz)
            if start is None:
                raise ValueError("'from' is required")
            if end is not None and end <= start:
                raise ValueError("'to' must be after 'from'")
            occupants = int(str(record["occupants"]).strip())
            if not 0 <= occupants <= room.capacity:
                raise ValueError(f"{occupants} occupants but room {room} sleeps {room.capacity}")
        except ValueError as error:
            result.rejected += 1
            result.reasons.append(f"row {number}: {error}")
            continue
        periods.append(Occupancy(room=room, start=start, end=end, occupants=occupants, source=Occupancy.Source.ROSTER))
    with transaction.atomic():
        for period in periods:
            Occupancy.objects.filter(room=period.room, start=period.start, source=Occupancy.Source.ROSTER).delete()
        Occupancy.objects.bulk_create(periods, batch_size=1000)
    result.stored = len(periods)
    return result
