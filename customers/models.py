"""Customer accounts, tariffs, segments and the transformers that feed them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from customers.querysets import (
    CustomerQuerySet,
    TransformerConditionQuerySet,
    TransformerEventQuerySet,
    TransformerQuerySet,
)

currency_code = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as EUR or USD.")


class Tariff(models.Model):
    """A price for electricity: flat, or by time of use."""

    class Kind(models.TextChoices):
        FLAT = "flat", "Flat rate"
        TIME_OF_USE = "tou", "Time of use"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FLAT)
    currency = models.CharField(max_length=3, default="EUR", validators=[currency_code])
    price_per_kwh = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Flat price, and the price outside any time-of-use band.",
    )
    standing_charge_per_day = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_per_kwh__gte=0), name="tariff_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_per_kwh} {self.currency}/kWh)"

    def price_at(self, local_time: dt.datetime) -> Decimal:
        """The price per kWh at a local wall-clock time, using the bands already loaded."""
        if self.kind == self.Kind.TIME_OF_USE:
            weekend = local_time.weekday() >= 5
            for band in self.bands.all():
                if band.applies(local_time.time(), weekend=weekend):
                    return band.price_per_kwh
        return self.price_per_kwh


class TariffBand(models.Model):
    """A time-of-use price between two local times (end may wrap past midnight)."""

    class Days(models.TextChoices):
        ALL = "all", "Every day"
        WEEKDAYS = "weekdays", "Weekdays"
        WEEKENDS = "weekends", "Weekends"

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="bands")
    name = models.CharField(max_length=40, help_text="Peak, off-peak, shoulder...")
    days = models.CharField(max_length=8, choices=Days.choices, default=Days.ALL)
    start = models.TimeField()
    end = models.TimeField()
    price_per_kwh = models.DecimalField(max_digits=8, decimal_places=4, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["tariff", "start"]

    def __str__(self) -> str:
        return f"{self.tariff.name}: {self.name} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start == self.end:
            raise ValidationError({"end": "A band must have a different start and end time."})

    def applies(self, at: dt.time, *, weekend: bool) -> bool:
        if (self.days == self.Days.WEEKDAYS and weekend) or (self.days == self.Days.WEEKENDS and not weekend):
            return False
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


class Segment(models.Model):
    """A named group of customers with a similar load profile (written by segmentation)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    recommendation = models.TextField(blank=True)
    expected_saving_pct = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """An account that consumes electricity: a hostel room, a staff residence, a shop..."""

    class Kind(models.TextChoices):
        HOSTEL_ROOM = "hostel_room", "Hostel room"
        HOSTEL = "hostel", "Hostel (common areas)"
        STAFF_RESIDENCE = "staff_residence", "Staff residence"
        COMMERCIAL = "commercial", "Commercial"
        RESIDENTIAL = "residential", "Residential"
        INSTITUTIONAL = "institutional", "Institutional (labs, offices)"

    account_code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="customers")
    has_solar = models.BooleanField(default=False)
    has_ev_charging = models.BooleanField(default=False)
    demand_response_opt_in = models.BooleanField(default=False)
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["account_code"]

    def __str__(self) -> str:
        return f"{self.account_code} {self.name}"


class Transformer(models.Model):
    """A distribution transformer feeding a group of meters."""

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", "In service"
        MAINTENANCE = "maintenance", "Under maintenance"
        FAILED = "failed", "Failed"
        RETIRED = "retired", "Retired"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120, blank=True)
    capacity_kva = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100_000)])
    installed_year = models.PositiveSmallIntegerField(validators=[MinValueValidator(1900), MaxValueValidator(2100)])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_SERVICE)
    location = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])

    objects = TransformerQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity_kva__gt=0), name="transformer_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.capacity_kva} kVA)"

    def clean(self) -> None:
        if self.installed_year and self.installed_year > dt.date.today().year:
            raise ValidationError({"installed_year": "A transformer cannot be installed in the future."})


class TransformerEvent(models.Model):
    """One entry of a transformer's history: inspection, fault, failure or repair."""

    class Kind(models.TextChoices):
        INSPECTION = "inspection", "Inspection"
        FAULT = "fault", "Fault"
        FAILURE = "failure", "Failure"
        REPAIR = "repair", "Repair"

    transformer = models.ForeignKey(Transformer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    description = models.TextField(blank=True)
    oil_temperature_c = models.FloatField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = TransformerEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["transformer", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.transformer.code} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class TransformerCondition(models.Model):
    """A condition reading from a transformer's monitor or an oil sample: top-oil temperature, dissolved gas.

    Top oil that runs hotter than its load and the weather explain, and combustible gas dissolved in
    the oil (TDCG, IEEE C57.104), are how a developing fault shows itself weeks before it fails.
    """

    transformer = models.ForeignKey(Transformer, on_delete=models.CASCADE, related_name="conditions")
    measured_at = models.DateTimeField(help_text="When it was measured, UTC.")
    top_oil_c = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-50), MaxValueValidator(200)],
        help_text="Top-oil temperature, °C.",
    )
    dissolved_gas_ppm = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100_000)],
        help_text="Total dissolved combustible gas (TDCG), ppm.",
    )
    source = models.CharField(max_length=200, blank=True, help_text="Monitor, gateway, user or simulator.")

    objects = TransformerConditionQuerySet.as_manager()

    class Meta:
        ordering = ["-measured_at"]
        constraints = [
            models.UniqueConstraint(fields=["transformer", "measured_at"], name="transformer_condition_unique"),
            models.CheckConstraint(
                condition=models.Q(top_oil_c__isnull=False) | models.Q(dissolved_gas_ppm__isnull=False),
                name="transformer_condition_has_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transformer.code} condition {self.measured_at:%Y-%m-%d %H:%M}"


class CustomerTruth(models.Model):
    """Ground truth a simulator knows about a customer (its real habit group); for evaluation, never a feature."""

    class Habit(models.TextChoices):
        NIGHT_OWL = "night_owl", "Night owls"
        EARLY_RISER = "early_riser", "Early risers"
        ALL_DAY = "all_day", "All day at home"
        LOW_USER = "low_user", "Low users"
        HEAVY_APPLIANCE = "heavy_appliance", "EV or heavy appliance"
        STAFF_RESIDENCE = "staff_residence", "Staff residence"
        CAFETERIA = "cafeteria", "Cafeteria"
        SHOP = "shop", "Shop"
        LAB = "lab", "Laboratory"
        COMMON_AREAS = "common_areas", "Hostel common areas"

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="truth")
    habit = models.CharField(max_length=20, choices=Habit.choices)
    seed = models.BigIntegerField(help_text="Seed of the simulation that created this customer.")

    class Meta:
        ordering = ["customer"]
        verbose_name = "customer ground truth"
        verbose_name_plural = "customer ground truth"

    def __str__(self) -> str:
        return f"{self.customer_id} {self.habit}"


class AuditEntry(models.Model):
    """Who did what, when: imports, exports, alert actions (the admin's own changes are LogEntry)."""

    class Action(models.TextChoices):
        IMPORT = "import", "import"
        EXPORT = "export", "export"
        ALERT = "alert", "alert action"
        CONFIG = "config", "configuration change"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    actor_label = models.CharField(max_length=150, help_text="Username, gateway name or command, as it was then.")
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    target = models.CharField(max_length=300, help_text="What was acted on: a file, an export, an alert.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target}"
