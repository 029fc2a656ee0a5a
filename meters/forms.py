"""The upload page's options: what `import_readings` takes as flags, asked for on the page."""

from __future__ import annotations

from typing import Any

from django import forms

from meters.ingest import FileFormatError
from meters.ingest.service import timezone_parse
from meters.ingest.sites import SiteImportError, site_import_check
from meters.models import Meter, Site
from meters.uploads import UploadOptions

LONG, WIDE = "long", "wide"
COLUMN_NAMES = ("timestamp", "kwh", "meter")  # the columns a file may name otherwise (its --*-column flags)
SITE_FIELDS = ("site_code", "site_timezone")
ADMINS_ONLY = "Only administrators may create sites and meters from an upload (the estate is configured by them)."


class UploadOptionsForm(forms.Form):
    """How to read a file, checked before its preview and again when it is confirmed."""

    timezone = forms.CharField(
        required=False,
        max_length=64,
        label="Time zone of timestamps without an offset (optional)",
        widget=forms.TextInput(attrs={"placeholder": "Europe/London"}),
    )
    layout = forms.ChoiceField(
        choices=[
            (LONG, "Long: a row per reading (meter, timestamp, kWh)"),
            (WIDE, "Wide: a timestamp column, then a column per meter headed by its serial, in kWh"),
        ],
        initial=LONG,
        required=False,  # long, as `import_readings` without --wide
        widget=forms.RadioSelect,
        label="Layout",
    )
    meter_serial = forms.CharField(
        required=False,
        max_length=64,
        label="Every row is this meter (serial; optional)",
        help_text="For a file of one meter, with no meter column.",
    )
    timestamp_column = forms.CharField(required=False, max_length=100, label="Timestamp column", initial="timestamp")
    kwh_column = forms.CharField(required=False, max_length=100, label="kWh column (long files)", initial="kwh")
    meter_column = forms.CharField(required=False, max_length=100, label="Meter column (long files)", initial="meter")
    zero_is_missing = forms.BooleanField(
        required=False,
        label="An exact 0 kWh is a missing reading",
        help_text="As many exports write a gap. Zeros the readings fall to and rise from within 12 hours "
        "(a building with solar panels at midday) are kept.",
    )
    site_code = forms.CharField(
        required=False,
        max_length=20,
        label="Create meters not known yet in site (code; optional)",
        help_text="Left blank, rows of unknown meters are rejected and kept in the quarantine. A new code creates "
        "the site; each new meter is a feeder of its “imported” hostel.",
        widget=forms.TextInput(attrs={"placeholder": "cambridge", "list": "site-codes"}),
    )
    site_timezone = forms.CharField(
        required=False,
        max_length=64,
        label="Local time of a new site (optional)",
        help_text="Its days, opening hours and calendar. Without it a new site takes the timestamps' zone, else UTC.",
        widget=forms.TextInput(attrs={"placeholder": "Europe/London"}),
    )

    def __init__(self, *args: Any, may_create: bool = False, **kwargs: Any) -> None:
        """`may_create`: the uploader may create sites and meters (administrators; elsewhere the estate is
        configured in the admin only). Without it the site fields are not offered, and sent anyway they are refused."""
        super().__init__(*args, **kwargs)
        self.may_create = may_create
        self.site: Site | None = None  # the existing site named, once checked
        if not may_create:
            for name in SITE_FIELDS:
                del self.fields[name]

    def clean_timezone(self) -> str:
        return self._zone("timezone")

    def clean_site_timezone(self) -> str:
        return self._zone("site_timezone")

    def _zone(self, name: str) -> str:
        value = str(self.cleaned_data.get(name) or "").strip()
        try:
            timezone_parse(value or None)
        except FileFormatError as error:
            raise forms.ValidationError(str(error)) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.may_create and any(str(self.data.get(name) or "").strip() for name in SITE_FIELDS):
            raise forms.ValidationError(ADMINS_ONLY)
        code = str(data.get("site_code") or "").strip()
        data["site_code"] = code
        data["meter_serial"] = str(data.get("meter_serial") or "").strip()
        if self.errors:
            return data
        if data.get("layout") == WIDE and data["meter_serial"]:
            self.add_error("meter_serial", "A wide file names each meter in its header: leave this blank.")
        if data.get("site_timezone") and not code:
            self.add_error("site_timezone", "A site's local time is for a site the import creates: give its code too.")
        elif code:
            try:
                self.site = site_import_check(
                    code=code,
                    site_timezone=data.get("site_timezone") or None,
                    timestamps_timezone=data.get("timezone") or None,
                )
            except (SiteImportError, FileFormatError) as error:
                self.add_error("site_code", str(error))
        return data

    def problems(self) -> str:
        """What is wrong with the options, each named by its field ("time zone of ...: unknown time zone 'X'")."""
        parts = []
        for name, errors in self.errors.items():
            label = str(self.fields[name].label).removesuffix(" (optional)") if name in self.fields else ""
            what = " ".join(str(error) for error in errors)
            parts.append(f"{label[:1].lower()}{label[1:]}: {what}" if label else what)
        return "Check the options: " + "; ".join(parts)

    def options(self) -> UploadOptions:
        """The checked options (call after is_valid())."""
        data = self.cleaned_data
        return UploadOptions(
            timezone=data["timezone"],
            wide=data.get("layout") == WIDE,
            zero_is_missing=bool(data["zero_is_missing"]),
            site_code=data.get("site_code", ""),
            site_timezone=data.get("site_timezone", ""),
            meter_serial=data["meter_serial"],
            columns={
                name: str(data.get(f"{name}_column") or "").strip()
                for name in COLUMN_NAMES
                if str(data.get(f"{name}_column") or "").strip() not in ("", name)
            },
        )

    def site_codes(self) -> list[str]:
        """The existing sites' codes, offered as the site field is typed (read only when the form is shown)."""
        return list(Site.objects.order_by("code").values_list("code", flat=True)) if self.may_create else []


def unknown_serials(rows: list[dict[str, object]]) -> list[str]:
    """Serials in the preview's rows that no meter has yet (the import creates them, or rejects their rows)."""
    serials = sorted({str(row["meter"]).strip() for row in rows if row.get("meter") and not row.get("malformed")})
    known = set(Meter.objects.filter(serial__in=serials).values_list("serial", flat=True))
    return [serial for serial in serials if serial not in known]
