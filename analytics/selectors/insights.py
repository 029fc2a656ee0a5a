"""What the models produced, for the manager overview: forecasts, transformer risk, segments, alert queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from alerts.models import Alert, Severity
from alerts.selectors import alerts_for_user
from customers.models import Transformer
from meters.models import Hostel
from meters.selectors.accounts import customers_visible_to
from predictions.ml.failure import factor_label
from predictions.models import Forecast
from predictions.selectors import forecasts_for_user, segments_for_user, transformer_risks_for_user


@dataclass(frozen=True)
class ForecastSubject:
    key: str  # "site-<id>" or "hostel-<id>"
    kind: str
    id: int
    label: str


@dataclass(frozen=True)
class ForecastPoint:
    target: dt.datetime
    yhat: float
    lower: float
    upper: float
    actual: float | None


@dataclass(frozen=True)
class RiskRow:
    transformer_id: int
    code: str
    name: str
    probability: float
    computed_at: dt.datetime
    factors: list[str]
    condition: str = ""  # "top oil 78 °C (+6.1 °C), gas 1,240 ppm": what its monitor read, "" when none


@dataclass(frozen=True)
class SegmentRow:
    code: str
    name: str
    description: str
    recommendation: str
    expected_saving_pct: float | None
    customers: int


def forecast_subjects_for_user(*, user: Any) -> list[ForecastSubject]:
    """The site totals (for roles that see everything) and each visible hostel that has forecasts."""
    rows = (
        forecasts_for_user(user=user)
        .filter(subject_kind__in=[Forecast.SubjectKind.SITE, Forecast.SubjectKind.HOSTEL])
        .values_list("subject_kind", "subject_id")
        .distinct()
        .order_by()
    )
    pairs = sorted(set(rows), key=lambda p: (p[0] != "site", p[1]))
    hostel_ids = [pk for kind, pk in pairs if kind == "hostel"]
    names = dict(Hostel.objects.filter(pk__in=hostel_ids).values_list("pk", "name")) if hostel_ids else {}
    subjects = []
    for kind, pk in pairs:
        label = "Whole site" if kind == "site" else names.get(pk, f"Hostel {pk}")
        subjects.append(ForecastSubject(key=f"{kind}-{pk}", kind=kind, id=pk, label=label))
    return subjects


def forecast_series_for_user(
    *, user: Any, subject: ForecastSubject, start: dt.datetime, end: dt.datetime
) -> list[ForecastPoint]:
    """Hourly forecasts with their 5-95 % interval and the actual where known, oldest first."""
    rows = forecasts_for_user(
        user=user, subject_kind=subject.kind, subject_id=subject.id, start=start, end=end
    ).values_list("target", "yhat", "lower", "upper", "actual")
    return [ForecastPoint(*row) for row in rows]


def _condition_text(features: dict[str, Any]) -> str:
    """The condition readings behind a score, in words: the last week's hottest top oil and gas level."""
    parts = []
    oil, excess, gas = (features.get(k) for k in ("top_oil_max_7d", "top_oil_excess_7d", "dissolved_gas_ppm"))
    if isinstance(oil, int | float):
        parts.append(f"top oil {oil:.0f} °C" + (f" ({excess:+.1f} °C)" if isinstance(excess, int | float) else ""))
    if isinstance(gas, int | float):
        parts.append(f"gas {gas:,.0f} ppm")
    return ", ".join(parts)


def _factor_text(factor: Any) -> str:
    """ "age 42 years (+0.21)": the factor in words and how far it pushes the risk up (log-odds)."""
    if isinstance(factor, dict):
        value = factor.get("value")
        text = factor_label(str(factor.get("feature", "?")), float(value) if isinstance(value, int | float) else None)
        contribution = factor.get("contribution")
        if isinstance(contribution, int | float):
            return f"{text} ({contribution:+.2f})"
        return text
    return str(factor)


def transformer_risk_rows_for_user(*, user: Any, factors: int = 3) -> list[RiskRow]:
    """Latest failure risk per visible transformer, highest first, with its top contributing factors."""
    risks = transformer_risks_for_user(user=user)
    names = {t.pk: t for t in Transformer.objects.filter(pk__in=[r.transformer_id for r in risks])}
    rows = []
    for risk in risks:
        transformer = names.get(risk.transformer_id)
        top = risk.factors if isinstance(risk.factors, list) else []
        rows.append(
            RiskRow(
                transformer_id=risk.transformer_id,
                code=transformer.code if transformer else str(risk.transformer_id),
                name=transformer.name if transformer else "",
                probability=risk.probability,
                computed_at=risk.computed_at,
                factors=[_factor_text(f) for f in top[:factors]],
                condition=_condition_text(risk.features if isinstance(risk.features, dict) else {}),
            )
        )
    return rows


def segment_rows_for_user(*, user: Any) -> list[SegmentRow]:
    """Customer segments the user may see, with how many of their visible customers fall in each."""
    visible = customers_visible_to(user).values("pk")
    segments = segments_for_user(user=user).annotate(
        visible_customers=Count("customers", filter=Q(customers__in=visible), distinct=True)
    )
    return [
        SegmentRow(
            code=s.code,
            name=s.name,
            description=s.description,
            recommendation=s.recommendation,
            expected_saving_pct=s.expected_saving_pct,
            customers=s.visible_customers,
        )
        for s in segments
    ]


def alert_queue_for_user(*, user: Any, limit: int = 15) -> list[Alert]:
    """The latest open (unacknowledged) alerts the user may see, most severe first then newest."""
    alerts = alerts_for_user(user=user).filter(status=Alert.Status.OPEN).order_by("-last_seen_at", "-id")
    rows = list(alerts[:limit])
    return sorted(rows, key=lambda a: (-a.severity_rank, -a.last_seen_at.timestamp()))


@dataclass(frozen=True)
class SeverityCount:
    severity: str
    label: str
    count: int


def open_alerts_by_severity_for_user(*, user: Any) -> list[SeverityCount]:
    """Alerts needing attention (open, acknowledged or snoozed) the user may see, per severity, most severe first."""
    counts = dict(
        alerts_for_user(user=user)
        .filter(status__in=Alert.ACTIVE)
        .values("severity")
        .annotate(n=Count("id"))
        .values_list("severity", "n")
        .order_by()
    )
    return [SeverityCount(value, label, int(counts.get(value, 0))) for value, label in reversed(Severity.choices)]
