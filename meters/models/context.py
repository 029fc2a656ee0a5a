"""What surrounds the readings: weather, occupancy and ground-truth incidents."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from meters.models.estate import Room, Site
from meters.models.metering import Meter
from meters.querysets import OccupancyQuerySet, ReadingQuerySet, SiteScopedQuerySet


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


class CarbonIntensity(models.Model):
    """Grid carbon intensity at a site in one hour (kg CO2 per kWh), imported like weather."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="carbon")
    timestamp = models.DateTimeField()
    kg_per_kwh = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(2)])

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "timestamp"], name="one_carbon_row_per_site_hour"),
            models.CheckConstraint(
                condition=models.Q(kg_per_kwh__gte=0, kg_per_kwh__lte=2), name="carbon_intensity_in_range"
            ),
        ]
        verbose_name_plural = "carbon intensity"

    def __str__(self) -> str:
        return f"{self.site.code} {self.timestamp:%Y-%m-%d %H:%M} {self.kg_per_kwh:.3f} kg/kWh"


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
        INTERVENTION = "intervention", "Intervention (load cut by a known share)"

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
