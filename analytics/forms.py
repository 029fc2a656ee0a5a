from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from analytics.selectors.overview import DateRange

MAX_DAYS = 366


class DateRangeForm(forms.Form):
    """Date-range selection shared by every dashboard (local days, inclusive)."""

    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="From"
    )
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="To")

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
