from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from analytics.selectors.overview import DateRange

MAX_DAYS = 366
# Days a person may ask for: wide enough for any history, narrow enough that a day either side, in
# any time zone, is still a date (9999-12-31 and 0001-01-01 were a 500).
EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label=label,
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
    )


class DateRangeForm(forms.Form):
    """Date-range selection shared by every dashboard (local days, inclusive)."""

    start = _day_field("From")
    end = _day_field("To")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data

    def period(self, *, default_days: int = 14) -> DateRange:
        """The chosen range, or the last `default_days` days when nothing valid was chosen."""
        today = timezone.localdate()
        if not self.is_bound or not self.is_valid():
            return DateRange.last_days(default_days, today=today)
        end = self.cleaned_data.get("end") or today
        start = self.cleaned_data.get("start") or end - dt.timedelta(days=default_days - 1)
        return DateRange(start=start, end=end)

    @property
    def status(self) -> int:
        """400 for a range that was asked for and is not valid (the page explains why)."""
        return 400 if self.is_bound and not self.is_valid() else 200
