"""Day-level anomalies on building-level meters: a working day that ran like a closed day, and the reverse.

A building with a working week has two kinds of day: working days and closed days (its weekend, and the
holidays of its site's calendar; vacation days are a season of their own and are left out). The weekend
is learned, not assumed: the weekdays whose median day uses clearly less than the others (Saturday and
Sunday, Friday and Saturday, or Sunday alone for a shop); a building with none has no day findings. Each complete
local day of a building-level meter is compared with the two usual days learned from the nearest days:
live, the weeks before it; in a scan of history (an import), the weeks around it, so a day is judged
within its own season and the first days of a history have usual days too:

- for a working day: the usual same weekday (the median 24-hour profile, kWh per local hour, of the
  eight nearest same weekdays, so a building whose Fridays are short has short usual Fridays) and
  the usual closed day (the four nearest closed days);
- for a closed day: the usual same closed weekday (eight nearest) and the usual working day (the
  nearest working week).

The day's position between them is the projection of its profile on the line from the closed profile
to the working one (0: a closed day, 1: a working day); hours where the two agree carry no weight.
A working day within 30 % of the gap of the closed day, and within five robust deviations of the
nearest closed days' own positions, is an unexpected closure on its own. A working day nearer the closed
day than the working one (below half the gap) that lies three robust deviations below its own weekdays'
positions (half-open) is a closure only beside another working day that ran like a closed day, with only
closed days between them: a closure period run on a plant timer (a Christmas week at half a working day),
whereas one quiet day alone is not worth a facility team's time. A closed day near the working day in the
first two ways was used like a working day (a half-working closed day is not flagged; nor one far above
the working days' own cluster: a hostel's weekend in a cold snap is the weather, not a working day).
A working day within 30 % of the gap of the closed day but above the nearest closed days' own tight cluster,
beside a working day that was a closure on its own (only closed days between), belongs to that closure (an
Easter Monday with a few people in after a closed Good Friday): a run of closed-like working days is judged as one.
A building has a clear working week when its closed days use less than 85 % of a working day and the
upper quartile of the totals of its closed days within `history_days` (both sides in a scan) is below the
lower quartile of its working days'; otherwise it gets no day findings. All the days in that window are
asked, not only the nearest, so a closure of three weeks does not hide itself by filling the working days.
Days with fewer than 80 % of their readings are neither judged nor used as reference.
Consecutive working days that ran like closed days (only closed days between them) are one finding.
No country's holidays or weekend are built in: a site whose calendar holds its holidays has them expected,
everything else is learned.
"""

from __future__ import annotations

from predictions.detection.days.explain import day_explain, days_found
from predictions.detection.days.judge import days_judge
from predictions.detection.days.model import (
    CLOSED_DAY_USAGE,
    CLOSURE,
    DAY_KINDS,
    WEEKDAYS,
    DayConfig,
    DayFinding,
    day_bounds,
)
from predictions.detection.days.profiles import (
    building_meter_ids,
    calendar_dates,
    closed_weekdays,
    day_profiles,
)
from predictions.detection.days.runs import closures_merge, finding_days, only_closed_between
from predictions.detection.days.scan import day_findings

__all__ = [
    "CLOSED_DAY_USAGE",
    "CLOSURE",
    "DAY_KINDS",
    "WEEKDAYS",
    "DayConfig",
    "DayFinding",
    "building_meter_ids",
    "calendar_dates",
    "closed_weekdays",
    "closures_merge",
    "day_bounds",
    "day_explain",
    "day_findings",
    "day_profiles",
    "days_found",
    "days_judge",
    "finding_days",
    "only_closed_between",
]
