"""The estate: sites with their calendar, hostels and rooms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from customers.models import Customer
from meters.querysets import HostelQuerySet, RoomQuerySet, SiteQuerySet, SiteScopedQuerySet


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
    carbon_kg_per_kwh = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
        help_text="Grid carbon intensity (kg CO2 per kWh) for hours without an imported hourly value.",
    )
    # Opening hours of the site's non-residential buildings (local time): use outside them is "out of
    # hours". Hostels are lived in around the clock and are judged by day and night instead.
    opens_at = models.TimeField(default=dt.time(8), help_text="Buildings open (local time).")
    closes_at = models.TimeField(default=dt.time(18), help_text="Buildings close (local time).")
    open_weekends = models.BooleanField(default=False, help_text="Buildings are open on Saturdays and Sundays.")

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.opens_at is not None and self.closes_at is not None and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Buildings must close after they open (same local day)."})

    def is_open(self, local: dt.datetime) -> bool:
        """Whether the site's buildings are open at this local time."""
        if local.weekday() >= 5 and not self.open_weekends:
            return False
        return self.opens_at <= local.time() < self.closes_at

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
