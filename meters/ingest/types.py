"""Plain typed values passed between the ingestion steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Columns of a readings chunk after parsing: `meter` (serial), `timestamp`, `kwh`, `voltage`,
# `current`, `power_factor` and `row` (line number in the file, or index in an API batch).
READING_COLUMNS = ("meter", "timestamp", "kwh", "voltage", "current", "power_factor")
OPTIONAL_COLUMNS = ("voltage", "current", "power_factor")
# Files only: an optional quality per row (raw, estimated, corrected) marks the rows as interval energy
# already derived and checked, kept with that quality (what archive_readings writes, so an archive
# comes back exactly, cumulative meters included).
QUALITY_COLUMN = "quality"
# A file line that could not be split into fields: a chunk row carrying why (validation rejects it).
MALFORMED = "malformed"
# Wide files only (a column per meter): a row whose cell was empty, which is no reading (counted as missing).
EMPTY_CELL = "empty_cell"

# Reasons kept in memory per call; every rejected row is in the quarantine regardless.
MAX_REASONS_IN_RESULT = 1000


@dataclass(frozen=True)
class Rejection:
    """One rejected input row: where it was, why, and the row as received."""

    row: int
    reason: str
    meter_serial: str
    raw: dict[str, object]
    meter_id: int | None = None
    # What the quarantine says, when the sender must hear less (a meter that exists but is not theirs).
    stored_reason: str | None = None


@dataclass(frozen=True)
class Gap:
    """Missing intervals of one meter: [start, end) had no readings."""

    meter_id: int
    start: dt.datetime
    end: dt.datetime
    missing: int
    filled: bool


@dataclass
class MeterRange:
    """The span of timestamps of one meter touched by a batch."""

    start: dt.datetime
    end: dt.datetime  # inclusive: the last interval start written

    def widen(self, start: dt.datetime, end: dt.datetime) -> None:
        self.start = min(self.start, start)
        self.end = max(self.end, end)


@dataclass
class IngestResult:
    """What an ingest did: counts, the first reasons for rejection, gaps, and timings."""

    accepted: int = 0  # new readings stored
    updated: int = 0  # existing readings whose values changed (marked corrected)
    unchanged: int = 0  # readings identical to what was stored
    rejected: int = 0  # rows quarantined with a reason
    duplicates: int = 0  # rows repeated within the same input; the last one wins
    skipped_missing: int = 0  # rows treated as missing on request (e.g. exact zeros)
    zeros_kept: int = 0  # exact zeros kept as readings although asked to treat zeros as missing (solar, tiny loads)
    not_kept: int = 0  # rejected rows past the sender's quarantine cap: counted and logged, not kept
    estimated: int = 0  # readings added to fill short gaps
    meters_created: int = 0  # unknown meters created (an import asked to create them in a site)
    rejections: list[Rejection] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    ranges: dict[int, MeterRange] = field(default_factory=dict)
    seconds: float = 0.0
    seconds_rollups: float = 0.0
    seconds_gaps: float = 0.0
    seconds_commit: float = 0.0  # the COMMIT (deferred constraint checks run there)
    max_reasons: int = MAX_REASONS_IN_RESULT

    @property
    def rows(self) -> int:
        return self.accepted + self.updated + self.unchanged + self.rejected + self.duplicates + self.skipped_missing

    @property
    def long_gaps(self) -> list[Gap]:
        return [gap for gap in self.gaps if not gap.filled]

    def add_rejections(self, rejections: list[Rejection]) -> None:
        self.rejected += len(rejections)
        room = self.max_reasons - len(self.rejections)
        if room > 0:
            self.rejections.extend(rejections[:room])

    def touch(self, meter_id: int, start: dt.datetime, end: dt.datetime) -> None:
        if meter_id in self.ranges:
            self.ranges[meter_id].widen(start, end)
        else:
            self.ranges[meter_id] = MeterRange(start, end)

    def summary(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "skipped_missing": self.skipped_missing,
            "zeros_kept": self.zeros_kept,
            "not_kept": self.not_kept,
            "estimated": self.estimated,
            "long_gaps": len(self.long_gaps),
            "meters": len(self.ranges),
            "meters_created": self.meters_created,
            "seconds": round(self.seconds, 3),
            "seconds_rollups": round(self.seconds_rollups, 3),
            "seconds_gaps": round(self.seconds_gaps, 3),
            "seconds_commit": round(self.seconds_commit, 3),
        }
