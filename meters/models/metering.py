"""Meters, their ledger, readings, rollups, quarantine, register indexes and gateway keys."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from customers.models import Customer, Transformer
from meters.models.estate import Hostel, Room
from meters.querysets import MeterEventQuerySet, MeterQuerySet, ReadingQuerySet, RollupQuerySet


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

    # No index of its own: the unique (meter, timestamp) index serves every lookup by meter. No database
    # constraint: PostgreSQL checks a foreign key row by row at commit (45 ms for a batch of 5,000,
    # measured), and ingestion writes only meters it has just resolved and locked (FOR NO KEY UPDATE,
    # which a DELETE of the meter waits for); Django still cascades deletes to the readings.
    meter = models.ForeignKey(
        Meter, on_delete=models.CASCADE, related_name="readings", db_index=False, db_constraint=False
    )
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

    # Keyed by (meter, hour), no surrogate id (docs/decisions/0008): for hourly meters there are as many
    # rollups as readings, and the id, its sequence and its index were a third of the cost of writing
    # them in a bulk import. No other index (the key serves every lookup by meter) and no database
    # constraint, as for readings: PostgreSQL checks a foreign key row by row at commit (6.3 s of a
    # 29 s import of 1.29 M hourly readings), while rollups are written only by a statement that joins
    # the meters it has locked (FOR NO KEY UPDATE); a meter's deletion locks it first
    # (meters.ingest.rollups.meter_delete_lock) and Django cascades the delete to its rollups.
    meter = models.ForeignKey(
        Meter, on_delete=models.CASCADE, related_name="hourly", db_index=False, db_constraint=False
    )
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    kwh = models.FloatField()
    readings = models.PositiveSmallIntegerField()
    estimated = models.PositiveSmallIntegerField(default=0)
    peak_kw = models.FloatField(null=True, blank=True)
    voltage_avg = models.FloatField(null=True, blank=True)
    voltage_min = models.FloatField(null=True, blank=True)
    voltage_max = models.FloatField(null=True, blank=True)
    power_factor_avg = models.FloatField(null=True, blank=True)

    pk = models.CompositePrimaryKey("meter", "hour")

    # No index on the hour alone: inserts scattered over it, meter after meter, were a third of the cost
    # of writing them in a bulk import (docs/decisions/0005). Questions across meters go per meter
    # (meters.selectors.rollups).
    objects = ReadingQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.meter_id} {self.hour:%Y-%m-%d %H}h {self.kwh:.2f} kWh"


class DailyRollup(models.Model):
    """Energy of one meter on one local day of its hostel's site (DST days have 23 or 25 hours)."""

    # As for hourly rollups: no index of its own, no database constraint.
    meter = models.ForeignKey(
        Meter, on_delete=models.CASCADE, related_name="daily", db_index=False, db_constraint=False
    )
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


class HostelHourlyRollup(models.Model):
    """Energy of one hostel's meters of one kind in one UTC hour: the sum of their hourly rollups.

    Pages that span every hostel (the dashboard's carbon, the hostel list, the estate's load) read
    these 25 rows an hour instead of 5,000 meters' rows (issue 29). Kept by the code that keeps the
    hourly rollups (`meters.ingest.hostel_rollups`), by the meter's current hostel and kind.
    """

    # No index of its own: the unique (hostel, kind, hour) index serves every lookup by hostel.
    hostel = models.ForeignKey(Hostel, on_delete=models.CASCADE, related_name="hourly", db_index=False)
    kind = models.CharField(max_length=12, choices=Meter.Kind.choices)
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    kwh = models.FloatField()
    meters = models.PositiveIntegerField(help_text="Meters with an hourly rollup in this hour.")
    readings = models.PositiveIntegerField()
    # Power quality of the same meters' hourly rollups, so grid health reads these rows too (issue 29): the
    # sum and count of their hourly voltage and power-factor averages (meters without one are not counted),
    # the lowest voltage_min and the highest voltage_max.
    voltage_sum = models.FloatField(null=True, blank=True)
    voltage_count = models.PositiveIntegerField(default=0)
    voltage_min = models.FloatField(null=True, blank=True)
    voltage_max = models.FloatField(null=True, blank=True)
    power_factor_sum = models.FloatField(null=True, blank=True)
    power_factor_count = models.PositiveIntegerField(default=0)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hostel", "kind", "hour"], name="one_hostel_rollup_per_kind_hour")
        ]
        indexes = [models.Index(fields=["hour"])]

    def __str__(self) -> str:
        return f"{self.hostel_id} {self.kind} {self.hour:%Y-%m-%d %H}h {self.kwh:.2f} kWh"


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

    class Sender(models.TextChoices):
        TRUSTED = "trusted", "Trusted (command or task)"
        GATEWAY = "gateway", "Gateway key"
        USER = "user", "User"
        UNKNOWN = "unknown", "Unknown (kept before senders were recorded)"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    received_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Who sent the row: re-processing runs with the sender's rights (a deleted or revoked sender has none).
    sender_kind = models.CharField(max_length=8, choices=Sender.choices, default=Sender.UNKNOWN)
    sender_gateway = models.ForeignKey(
        "GatewayToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.row_number or '-'} {self.reason}"


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
