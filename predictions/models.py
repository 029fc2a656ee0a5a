"""Trained model versions and their measured quality."""

from __future__ import annotations

from django.db import models, transaction

from predictions.querysets import AnomalyQuerySet, ForecastQuerySet


class ModelVersion(models.Model):
    """One trained version of a model family, with its parameters, window, metrics and artifact."""

    class Family(models.TextChoices):
        ANOMALY = "anomaly", "Anomaly detection"
        FORECAST = "forecast", "Demand forecasting"
        SEGMENTATION = "segmentation", "Customer segmentation"
        FAILURE = "failure", "Transformer failure risk"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        CURRENT = "current", "Current"
        RETIRED = "retired", "Retired"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Training failed"

    family = models.CharField(max_length=16, choices=Family.choices)
    subject = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the model is for: a meter serial, hostel code, 'site:<code>', or blank.",
    )
    format_version = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    fit = models.BooleanField(null=True, help_text="Passes its fitness gate (ASHRAE Guideline 14 or family-specific).")
    train_start = models.DateTimeField(null=True, blank=True)
    train_end = models.DateTimeField(null=True, blank=True)
    artifact = models.CharField(max_length=300, blank=True, help_text="Path under ML_MODELS_DIR.")
    trained_at = models.DateTimeField(auto_now_add=True)
    training_seconds = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-trained_at"]
        indexes = [models.Index(fields=["family", "subject", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "subject"],
                condition=models.Q(status="current"),
                name="one_current_version_per_family_and_subject",
            )
        ]

    def __str__(self) -> str:
        subject = f" {self.subject}" if self.subject else ""
        return f"{self.get_family_display()}{subject} v{self.pk} ({self.status})"

    def make_current(self, *, artifact: str) -> None:
        """Record the saved artifact and make this version its family's (and subject's) current one,
        retiring the one before, in one transaction."""
        with transaction.atomic():
            ModelVersion.objects.filter(
                family=self.family, subject=self.subject, status=ModelVersion.Status.CURRENT
            ).exclude(pk=self.pk).update(status=ModelVersion.Status.RETIRED)
            self.artifact = artifact
            self.status = ModelVersion.Status.CURRENT
            self.save(update_fields=["artifact", "status"])


# --- Forecasting, segmentation and failure risk (issue 7) ---------------------------------------


class Forecast(models.Model):
    """A forecast of one subject's energy for one hour or one local day, with its actual once known."""

    class SubjectKind(models.TextChoices):
        HOSTEL = "hostel", "Hostel"
        TRANSFORMER = "transformer", "Transformer"
        SITE = "site", "Site"

    class Horizon(models.TextChoices):
        HOURLY = "hourly", "Hourly (72 h ahead)"
        DAILY = "daily", "Daily (30 days ahead)"

    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    subject_id = models.PositiveIntegerField(help_text="Primary key of the hostel, transformer or site.")
    hostel = models.ForeignKey("meters.Hostel", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    transformer = models.ForeignKey(
        "customers.Transformer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    site = models.ForeignKey("meters.Site", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    horizon = models.CharField(max_length=6, choices=Horizon.choices)
    target = models.DateTimeField(help_text="Start of the hour, or of the local day, in UTC.")
    day = models.DateField(null=True, blank=True, help_text="Local day, for daily forecasts.")
    issued_at = models.DateTimeField(help_text="Forecast origin: only data before it was used.")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    yhat = models.FloatField(help_text="kWh in the hour or day.")
    lower = models.FloatField(help_text="5% quantile.")
    upper = models.FloatField(help_text="95% quantile.")
    yhat_day_ahead = models.FloatField(null=True, blank=True, help_text="Latest forecast issued 24 h or more ahead.")
    actual = models.FloatField(null=True, blank=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        ordering = ["subject_kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id", "horizon", "target"],
                name="one_forecast_per_subject_horizon_target",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(subject_kind="hostel", hostel__isnull=False)
                    | models.Q(subject_kind="transformer", transformer__isnull=False)
                    | models.Q(subject_kind="site", site__isnull=False)
                ),
                name="forecast_names_its_subject",
            ),
        ]
        indexes = [models.Index(fields=["subject_kind", "horizon", "target"])]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.horizon} {self.target:%Y-%m-%d %H:%M} {self.yhat:.1f} kWh"


class TransformerRisk(models.Model):
    """A transformer's calibrated probability of failing within 30 days, with its top factors."""

    transformer = models.ForeignKey("customers.Transformer", on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    probability = models.FloatField()
    factors = models.JSONField(default=list, help_text="Top contributions: [{feature, value, contribution}].")
    features = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-probability"]
        indexes = [models.Index(fields=["transformer", "computed_at"])]

    def __str__(self) -> str:
        return f"{self.transformer_id} {self.probability:.1%} at {self.computed_at:%Y-%m-%d}"


class JobRun(models.Model):
    """One run of a scheduled forecasting, segmentation, failure-risk or training job."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Succeeded"
        PARTIAL = "partial", "Partly succeeded"
        FAILED = "failed", "Failed"
        LOST = "lost", "Worker lost (redelivered)"

    job = models.CharField(max_length=60)
    task_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="Celery task id, when queued.")
    started_at = models.DateTimeField()
    seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "started_at"])]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


# --- Detection (issue 5) -------------------------------------------------------------------------


class Anomaly(models.Model):
    """One abnormal incident on a meter: consecutive anomalous intervals merged, explained and costed."""

    class Kind(models.TextChoices):
        HIGH_CONSUMPTION = "high_consumption", "High consumption"
        LOW_CONSUMPTION = "low_consumption", "Low consumption"
        VACANT_USAGE = "vacant_usage", "Usage in a vacant room"
        NIGHT_USAGE = "night_usage", "Night-time usage"
        SUSTAINED_EXCESS = "sustained_excess", "Sustained excess"
        SPIKE = "spike", "Spike"
        DRIFT = "drift", "Gradual drift"
        FLAT_LINE = "flat_line", "Meter stuck (flat line)"
        DEAD_METER = "dead_meter", "Meter dead"
        REGISTER_RESET = "register_reset", "Register reset or impossible reading"
        METER_REPLACEMENT = "meter_replacement", "No readings while a meter was replaced"
        VOLTAGE_SAG = "voltage_sag", "Voltage sag"
        VOLTAGE_SWELL = "voltage_swell", "Voltage swell"
        LOW_POWER_FACTOR = "low_power_factor", "Low power factor"
        MAIN_IMBALANCE = "main_imbalance", "Main meter above the sum of its rooms"
        CLOSURE_UNEXPECTED = "closure_unexpected", "Working day that ran like a closed day"
        CLOSED_DAY_USAGE = "closed_day_usage", "Closed day that ran like a working day"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed by a warden"
        DISMISSED = "dismissed", "False alarm"
        MUTED = "muted", "Muted (baseline unfit or suppressed)"

    meter = models.ForeignKey("meters.Meter", on_delete=models.CASCADE, related_name="anomalies")
    hostel = models.ForeignKey(
        "meters.Hostel", on_delete=models.CASCADE, null=True, blank=True, related_name="anomalies"
    )
    room = models.ForeignKey("meters.Room", on_delete=models.SET_NULL, null=True, blank=True, related_name="anomalies")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    start = models.DateTimeField(help_text="First anomalous interval, UTC.")
    end = models.DateTimeField(help_text="End of the last anomalous interval, UTC (exclusive).")
    score = models.FloatField(help_text="0 (normal) to 1 (certainly abnormal).")
    expected_kwh = models.FloatField(null=True, blank=True)
    actual_kwh = models.FloatField(null=True, blank=True)
    excess_kwh = models.FloatField(null=True, blank=True)
    excess_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="anomalies"
    )
    detectors = models.JSONField(default=list, blank=True, help_text="Which detectors fired.")
    explanation = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    dedupe_key = models.CharField(max_length=120, unique=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    alerted = models.BooleanField(default=False, help_text="Handed to the alerts service.")

    objects = AnomalyQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        verbose_name_plural = "anomalies"
        indexes = [models.Index(fields=["meter", "kind", "end"]), models.Index(fields=["hostel", "start"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="anomaly_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.meter_id} {self.start:%Y-%m-%d %H:%M}"


class MeterBaseline(models.Model):
    """How detection treats one meter: its baseline tier and fit, and thresholds learnt from feedback."""

    class Tier(models.TextChoices):
        OWN = "own", "Learned with its own history"
        COHORT = "cohort", "Bed-type cohort (little history)"
        PROFILE = "profile", "Own time-of-week profile"

    meter = models.OneToOneField("meters.Meter", on_delete=models.CASCADE, related_name="baseline")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tier = models.CharField(max_length=8, choices=Tier.choices, default=Tier.OWN)
    cv_rmse = models.FloatField(null=True, blank=True, help_text="Hourly CV(RMSE) on the held-back window.")
    nmbe = models.FloatField(null=True, blank=True, help_text="Hourly NMBE on the held-back window.")
    fit = models.BooleanField(
        default=True, help_text="Passes ASHRAE Guideline 14; unfit meters have consumption alerts muted."
    )
    threshold_boost = models.FloatField(default=0.0, help_text="Added to the z threshold; learnt from false alarms.")
    suppressed_kinds = models.JSONField(default=list, blank=True, help_text="Kinds muted after repeated false alarms.")
    residual_drift = models.FloatField(null=True, blank=True, help_text="Recent median normalised residual.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.meter_id} {self.tier} fit={self.fit}"


class DetectorFeedback(models.Model):
    """A warden's verdict on an anomaly or alert (true or false alarm); the alerts side may write it."""

    meter = models.ForeignKey("meters.Meter", on_delete=models.CASCADE, related_name="detector_feedback")
    anomaly = models.ForeignKey(Anomaly, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback")
    kind = models.CharField(max_length=20, choices=Anomaly.Kind.choices)
    true_alarm = models.BooleanField()
    at = models.DateTimeField()
    source = models.CharField(max_length=60, blank=True, help_text="For example alert:<id>.")

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=~models.Q(source=""), name="one_feedback_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.kind} {'true' if self.true_alarm else 'false'} alarm"


class ScannedHour(models.Model):
    """What detection expected of one meter in one hour, written each time it scans that hour.

    The hostel heat map reads these, so "expected" means the same on the map as in the alerts, and an hour
    with no row has not been scanned yet.
    """

    meter = models.ForeignKey("meters.Meter", on_delete=models.CASCADE, related_name="scanned_hours")
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    expected_kwh = models.FloatField(help_text="The baseline's expected energy in the hour's scanned readings.")
    actual_kwh = models.FloatField(help_text="Metered energy in the same readings.")
    readings = models.PositiveSmallIntegerField()
    strength = models.FloatField(help_text="Highest z-like strength in the hour, on the scale of the z threshold.")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    scanned_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meter", "hour"], name="one_scan_per_meter_hour")]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.hour:%Y-%m-%d %H:00} expected {self.expected_kwh:.3f} kWh"


# --- Scans of stored history and the first training (issue 24) ----------------------------------


class JobStatus(models.TextChoices):
    """Where a background job recorded in a row stands (a history scan, a first training)."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class HistoryScan(models.Model):
    """Detection over readings already stored (the seeded demo, an imported file), meter chunk by chunk."""

    class Reason(models.TextChoices):
        FIRST_RUN = "first_run", "First run"
        IMPORT = "import", "Imported history"

    Status = JobStatus

    key = models.CharField(max_length=120, unique=True, help_text="Queuing the same scan twice finds this row.")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    start = models.DateTimeField(help_text="Scanned from, UTC.")
    end = models.DateTimeField(help_text="Scanned to, UTC (exclusive).")
    meter_ids = models.JSONField(default=list, help_text="In scan order (grouped by hostel).")
    meters_total = models.PositiveIntegerField(default=0)
    meters_done = models.PositiveIntegerField(default=0)
    findings = models.PositiveIntegerField(default=0, help_text="New alerts raised from what the scan found.")
    findings_by_hostel = models.JSONField(default=dict, blank=True, help_text="Hostel id (or '-') to findings.")
    eras = models.JSONField(
        default=list,
        blank=True,
        help_text="[start, end, model version id or null for the current baseline]: which baseline judges which span.",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    site = models.ForeignKey(
        "meters.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An import scan's site: scans of one site still running share one summary.",
    )
    summary_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="summed_up_here",
        help_text="A later scan of the same site that was still running: this scan's findings are in its summary.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} scan {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} ({self.status})"


class InitialTraining(models.Model):
    """The first training of one model family after the first run, so the system page can show it."""

    Status = JobStatus

    family = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="From its start to its end (wall clock).")
    note = models.TextField(blank=True)
    subjects_done = models.JSONField(
        default=list, blank=True, help_text="Forecasting: the subjects trained so far, one task each."
    )
    subjects_total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.family} {self.status}"
