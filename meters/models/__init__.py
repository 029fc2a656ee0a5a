"""The estate (sites, hostels, rooms), its meters, their readings, weather and occupancy.

A package of modules with explicit re-exports: import from `meters.models`.
"""

from meters.models.context import CarbonIntensity, Incident, Occupancy, Weather
from meters.models.estate import AcademicPeriod, Hostel, Room, Site, validate_timezone
from meters.models.metering import (
    DailyRollup,
    GatewayToken,
    HostelHourlyRollup,
    HourlyRollup,
    Meter,
    MeterEvent,
    Quality,
    QuarantinedReading,
    Reading,
    RegisterReading,
)
from meters.models.uploads import ReadingsUpload

__all__ = [
    "AcademicPeriod",
    "CarbonIntensity",
    "DailyRollup",
    "GatewayToken",
    "Hostel",
    "HostelHourlyRollup",
    "HourlyRollup",
    "Incident",
    "Meter",
    "MeterEvent",
    "Occupancy",
    "Quality",
    "QuarantinedReading",
    "Reading",
    "ReadingsUpload",
    "RegisterReading",
    "Room",
    "Site",
    "Weather",
    "validate_timezone",
]
