"""The form a manager logs an intervention with: what, where (one meter, hostel or site), when, expected."""

from __future__ import annotations

from typing import Any

from django import forms

from analytics.models import Intervention
from meters.models import Hostel, Meter, Site


class InterventionForm(forms.ModelForm):
    class Meta:
        model = Intervention
        fields = [
            "title",
            "description",
            "meter",
            "hostel",
            "site",
            "start",
            "expected_saving_fraction",
            "expected_kwh_per_year",
        ]
        widgets = {"start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only what the user may see is offered (managers see all; the page is for managers anyway).
        self.fields["meter"].queryset = Meter.objects.visible_to(user).order_by("serial")  # type: ignore[attr-defined]
        self.fields["hostel"].queryset = Hostel.objects.visible_to(user)  # type: ignore[attr-defined]
        self.fields["site"].queryset = Site.objects.visible_to(user)  # type: ignore[attr-defined]
        self.fields["meter"].help_text = "Choose one of meter, hostel or site."
