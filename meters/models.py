"""The estate (sites, hostels, rooms), its meters, their readings, weather and occupancy."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from customers.models import Customer, Transformer
from meters.querysets import (
    HostelQuerySet,
    MeterEventQuerySet,
    MeterQuerySet,
    OccupancyQuerySet,
    ReadingQuerySet,
    RoomQuerySet,
    SiteQuerySet,
    SiteScopedQuerySet,
)


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (for example Europe/London).") from None


class Site(models.Model):
    """A campus: its hostels share a time zone, weather and academic calendar."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    currency = models.CharField(max_length=3, default="EUR")

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class AcademicPeriod(models.Model):
    """A span of the academic calendar of a site: term, exams, vacation or public holiday."""

    class Kind(models.TextChoices):
        TERM = "term", "Term"
        EXAMS = "exams", "Exams"
        VACATION = "vacation", "Vacation"
        HOLIDAY = "holiday", "Public holiday"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="calendar")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=80)
    start = models.DateField()
    end = models.DateField(help_text="Last day, inclusive.")

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["site", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="period_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start} to {self.end})"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": "The last day cannot be before the first day."})


class Hostel(models.Model):
    """A hostel building on a site, with its floors of rooms and its wardens."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="hostels")
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=120)
    floors = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(100)])
    wardens = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="warden_hostels", blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="hostels", help_text="Common areas"
    )

    objects = HostelQuerySet.as_manager()

    class Meta:
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="hostel_code_unique_per_site"),
            models.CheckConstraint(condition=models.Q(floors__gte=1), name="hostel_has_a_floor"),
        ]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    """A room of 2, 4 or 6 beds on a floor of a hostel."""

    class BedType(models.IntegerChoices):
        TWO = 2, "2 beds"
        FOUR = 4, "4 beds"
        SIX = 6, "6 beds"

    hostel = models.ForeignKey(Hostel, on_delete=models.PROTECT, related_name="rooms")
    number = models.CharField(max_length=20)
    floor = models.SmallIntegerField(default=0, validators=[MinValueValidator(-5), MaxValueValidator(100)])
    bed_type = models.PositiveSmallIntegerField(choices=BedType.choices)
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)], help_text="People the room sleeps."
    )
    area_m2 = models.FloatField(null=True, blank=True, validators=[MinValueValidator(1)])
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="rooms")

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["hostel", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hostel", "number"], name="room_number_unique_per_hostel"),
            models.CheckConstraint(condition=models.Q(bed_type__in=[2, 4, 6]), name="room_bed_type_2_4_6"),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.hostel.code}-{self.number}"

    def clean(self) -> None:
        errors = {}
        if self.bed_type not in (2, 4, 6):
            errors["bed_type"] = "Rooms have 2, 4 or 6 beds."
        if self.capacity is not None and self.capacity < 1:
            errors["capacity"] = "Capacity must be at least one person."
        if self.hostel_id and self.floor is not None:
            floors = Hostel.objects.filter(pk=self.hostel_id).values_list("floors", flat=True).first()
            if floors is not None and not 0 <= self.floor < floors:
                errors["floor"] = f"This hostel has floors 0 to {floors - 1}."
        if errors:
            raise ValidationError(errors)


class Meter(models.Model):
    """A meter: in a room, the main meter of a hostel, a feeder, or a virtual sum of others."""

    class Kind(models.TextChoices):
        ROOM = "room", "Room meter"
        HOSTEL_MAIN = "hostel_main", "Hostel main meter"
        FEEDER = "feeder", "Feeder / other customer"
        VIRTUAL = "virtual", "Virtual (sum of rooms)"

    class Register(models.TextChoices):
        INTERVAL = "interval", "Interval energy (kWh per interval)"
        CUMULATIVE = "cumulative", "Cumulative register (running kWh index)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FAULTY = "faulty", "Faulty"
        REMOVED = "removed", "Removed"

    serial = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ROOM)
    hostel = models.ForeignKey(Hostel, on_delete=models.PROTECT, null=True, blank=True, related_name="meters")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="meters")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="meters")
    transformer = models.ForeignKey(
        Transformer, on_delete=models.SET_NULL, null=True, blank=True, related_name="meters"
    )
    interval_minutes = models.PositiveSmallIntegerField(
        choices=[(15, "15 minutes"), (30, "30 minutes"), (60, "1 hour")], default=15
    )
    register = models.CharField(max_length=10, choices=Register.choices, default=Register.INTERVAL)
    rated_kw = models.FloatField(
        default=10.0, validators=[MinValueValidator(0.1)], help_text="Largest plausible demand, for validation."
    )
    nominal_voltage = models.FloatField(default=230.0, validators=[MinValueValidator(1)])
    installed_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    last_reading_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MeterQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=models.Q(kind="room", removed_at__isnull=True, room__isnull=False),
                name="one_active_room_meter_per_room",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="room") | models.Q(room__isnull=False), name="room_meter_has_room"
            ),
            models.CheckConstraint(condition=models.Q(rated_kw__gt=0), name="meter_rated_kw_positive"),
        ]
        indexes = [models.Index(fields=["hostel", "kind"])]

    def __str__(self) -> str:
        return self.serial

    def save(self, *args: object, **kwargs: object) -> None:
        # A room meter belongs to its room's hostel: scoping reads meter.hostel.
        if self.room_id and not self.hostel_id:
            self.hostel_id = Room.objects.values_list("hostel_id", flat=True).get(pk=self.room_id)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.ROOM and not self.room_id:
            errors["room"] = "A room meter must be in a room."
        if self.kind in (self.Kind.HOSTEL_MAIN, self.Kind.VIRTUAL) and not self.hostel_id:
            errors["hostel"] = "A hostel main or virtual meter must belong to a hostel."
        if self.kind != self.Kind.ROOM and self.room_id:
            errors["room"] = "Only room meters are attached to a room."
        if self.room_id:
            room_hostel = Room.objects.filter(pk=self.room_id).values_list("hostel_id", flat=True).first()
            if self.hostel_id and room_hostel != self.hostel_id:
                errors["hostel"] = "The meter's hostel must be the hostel of its room."
            elif not self.hostel_id:
                self.hostel_id = room_hostel
            if self.kind == self.Kind.ROOM and self.removed_at is None:
                clash = (
                    Meter.objects.filter(room_id=self.room_id, kind=self.Kind.ROOM, removed_at__isnull=True)
                    .exclude(pk=self.pk)
                    .values_list("serial", flat=True)
                    .first()
                )
                if clash:
                    errors["room"] = f"Meter {clash} is already installed in this room; record its removal first."
        if self.removed_at and self.installed_at and self.removed_at <= self.installed_at:
            errors["removed_at"] = "A meter is removed after it is installed."
        if errors:
            raise ValidationError(errors)


class MeterEvent(models.Model):
    """An entry in a meter's ledger: installation, replacement, register reset, backfill, removal."""

    class Kind(models.TextChoices):
        INSTALL = "install", "Installed"
        REPLACE = "replace", "Replaced"
        REGISTER_RESET = "register_reset", "Register reset"
        BACKFILL = "backfill", "Backfill"
        REMOVE = "remove", "Removed"

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    replaces = models.ForeignKey(
        Meter, on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by_events"
    )
    register_before = models.FloatField(null=True, blank=True, help_text="kWh index just before the event.")
    register_after = models.FloatField(null=True, blank=True, help_text="kWh index just after the event.")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = MeterEventQuerySet.as_manager()

    class Meta:
        ordering = ["meter", "occurred_at"]
        indexes = [models.Index(fields=["meter", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.meter.serial} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.kind == self.Kind.REPLACE and not self.replaces_id:
            raise ValidationError({"replaces": "Name the meter this one replaces."})
        if self.replaces_id and self.replaces_id == self.meter_id:
            raise ValidationError({"replaces": "A meter cannot replace itself."})


class Quality(models.IntegerChoices):
    RAW = 0, "Raw"
    ESTIMATED = 1, "Estimated"
    CORRECTED = 2, "Corrected"


class Reading(models.Model):
    """Energy used by a meter in the interval that starts at `timestamp` (UTC)."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    timestamp = models.DateTimeField(help_text="Start of the interval, UTC.")
    kwh = models.FloatField()
    voltage = models.FloatField(null=True, blank=True)
    current = models.FloatField(null=True, blank=True)
    power_factor = models.FloatField(null=True, blank=True)
    quality = models.PositiveSmallIntegerField(choices=Quality.choices, default=Quality.RAW)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "timestamp"], name="one_reading_per_meter_and_time"),
        ]
        indexes = [models.Index(fields=["timestamp"])]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.timestamp:%Y-%m-%d %H:%M} {self.kwh:.3f} kWh"


class HourlyRollup(models.Model):
    """Energy and power quality of one meter in one UTC hour, kept up to date as readings arrive."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="hourly")
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    kwh = models.FloatField()
    readings = models.PositiveSmallIntegerField()
    estimated = models.PositiveSmallIntegerField(default=0)
    peak_kw = models.FloatField(null=True, blank=True)
    voltage_avg = models.FloatField(null=True, blank=True)
    voltage_min = models.FloatField(null=True, blank=True)
    voltage_max = models.FloatField(null=True, blank=True)
    power_factor_avg = models.FloatField(null=True, blank=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meter", "hour"], name="one_hourly_rollup_per_meter_hour")]
        indexes = [models.Index(fields=["hour"])]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.hour:%Y-%m-%d %H}h {self.kwh:.2f} kWh"


class DailyRollup(models.Model):
    """Energy of one meter on one local day of its hostel's site (DST days have 23 or 25 hours)."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField(help_text="Local date in the site's time zone.")
    kwh = models.FloatField()
    readings = models.PositiveIntegerField()
    estimated = models.PositiveIntegerField(default=0)
    peak_kw = models.FloatField(null=True, blank=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meter", "day"], name="one_daily_rollup_per_meter_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.day} {self.kwh:.2f} kWh"


class QuarantinedReading(models.Model):
    """An input row that was rejected, kept with its reason so it can be fixed and re-processed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REPROCESSED = "reprocessed", "Re-processed"
        DISCARDED = "discarded", "Discarded"

    source = models.CharField(max_length=200, help_text="File name, API client or gateway.")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    meter_serial = models.CharField(max_length=64, blank=True, db_index=True)
    meter = models.ForeignKey(Meter, on_delete=models.SET_NULL, null=True, blank=True, related_name="quarantined")
    raw = models.JSONField(help_text="The row as received.")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    received_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.row_number or '-'} {self.reason}"


class Weather(models.Model):
    """Weather at a site in one hour (observed or forecast)."""

    class Source(models.TextChoices):
        OBSERVED = "observed", "Observed"
        FORECAST = "forecast", "Forecast"
        SIMULATED = "simulated", "Simulated"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="weather")
    timestamp = models.DateTimeField()
    temperature_c = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(60)])
    humidity_pct = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)])
    rainfall_mm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    wind_kmh = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    pressure_hpa = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(800), MaxValueValidator(1100)]
    )
    irradiance_wm2 = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OBSERVED)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "timestamp"], name="one_weather_row_per_site_hour")]
        verbose_name_plural = "weather"

    def __str__(self) -> str:
        return f"{self.site.code} {self.timestamp:%Y-%m-%d %H:%M} {self.temperature_c:.1f} °C"


class Occupancy(models.Model):
    """How many people live in a room from `start` until `end` (open-ended when end is empty)."""

    class Source(models.TextChoices):
        ROSTER = "roster", "Roster"
        SENSOR = "sensor", "Sensor"
        MANUAL = "manual", "Manual"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="occupancy")
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    occupants = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ROSTER)

    objects = OccupancyQuerySet.as_manager()

    class Meta:
        ordering = ["room", "start"]
        verbose_name_plural = "occupancy"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gt=models.F("start")),
                name="occupancy_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["room", "start"])]

    def __str__(self) -> str:
        return f"{self.room} {self.occupants} from {self.start:%Y-%m-%d}"

    def clean(self) -> None:
        errors = {}
        if self.end and self.start and self.end <= self.start:
            errors["end"] = "The period must end after it starts."
        if self.room_id and self.occupants is not None:
            capacity = Room.objects.filter(pk=self.room_id).values_list("capacity", flat=True).first()
            if capacity is not None and self.occupants > capacity:
                errors["occupants"] = f"This room sleeps {capacity}; {self.occupants} occupants is impossible."
        if errors:
            raise ValidationError(errors)


class Incident(models.Model):
    """Ground truth: something that really happened to a meter (from the simulator or an operator)."""

    class Kind(models.TextChoices):
        SPIKE = "spike", "Consumption spike"
        SUSTAINED_EXCESS = "sustained_excess", "Sustained excess"
        VACANT_USAGE = "vacant_usage", "Usage in a vacant room"
        NIGHT_USAGE = "night_usage", "Night-time abuse"
        DRIFT = "drift", "Gradual drift"
        FLAT_LINE = "flat_line", "Meter stuck"
        DEAD_METER = "dead_meter", "Meter dead"
        REGISTER_RESET = "register_reset", "Register reset"
        METER_REPLACEMENT = "meter_replacement", "Meter replacement"
        VOLTAGE_SAG = "voltage_sag", "Voltage sag"
        VOLTAGE_SWELL = "voltage_swell", "Voltage swell"
        LOW_POWER_FACTOR = "low_power_factor", "Low power factor"
        MAIN_IMBALANCE = "main_imbalance", "Main meter above the sum of its rooms"

    class Source(models.TextChoices):
        SIMULATOR = "simulator", "Simulator"
        OPERATOR = "operator", "Operator"

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    magnitude = models.FloatField(null=True, blank=True, help_text="Kind-specific size (factor, kW, volts).")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SIMULATOR)
    note = models.CharField(max_length=200, blank=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["meter", "start"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="incident_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.meter_id} {self.start:%Y-%m-%d %H:%M}"


class RegisterReading(models.Model):
    """A raw kWh index from a cumulative meter, kept so intervals can be re-derived and audited."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="register_readings")
    timestamp = models.DateTimeField(help_text="When the index was read, UTC.")
    index_kwh = models.FloatField()

    objects = ReadingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "timestamp"], name="one_register_reading_per_meter_and_time")
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.timestamp:%Y-%m-%d %H:%M} index {self.index_kwh:.3f} kWh"


class GatewayToken(models.Model):
    """A key a meter gateway uses to post readings; only its hash is stored."""

    name = models.CharField(max_length=100, unique=True)
    key_prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters of the key, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    meters = models.ManyToManyField(Meter, blank=True, related_name="gateway_tokens", help_text="Meters it may write.")
    hostel = models.ForeignKey(
        Hostel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="gateway_tokens",
        help_text="Or: every meter of this hostel.",
    )
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
