"""The OpenAPI schema's settings (drf-spectacular), read into settings.SPECTACULAR_SETTINGS.

Fixed data, imported while config/settings.py runs: import nothing here (nor in config/settings.py)
that reads django.conf.settings, and in particular nothing from drf_spectacular. drf-spectacular
reads SPECTACULAR_SETTINGS once, when drf_spectacular.settings is first imported; imported from inside
config/settings.py, that read makes Django load the settings module again, finds it half-run (no
SPECTACULAR_SETTINGS yet) and keeps drf-spectacular's defaults for good: no ENUM_NAME_OVERRIDES, so
`manage.py check --deploy` prints drf_spectacular.W001 enum-naming warnings, and no post-processing
hooks or request/response split in the schema either. config/tests/test_settings.py guards it.
"""

from __future__ import annotations

SPECTACULAR_SETTINGS = {
    "TITLE": "Wattwatch API",
    "DESCRIPTION": (
        "Electricity of student hostels and campus estates: meters, readings, alerts, forecasts. "
        "Times are ISO 8601 in UTC. [← Back to Wattwatch](/) · [ReDoc](/api/redoc/) · [Schema](/api/schema/)"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc assets are served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several components have a field named "status"; name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "AlertStatusEnum": "alerts.models.Alert.Status",
        "AlertQueuedStatusEnum": ["queued"],
        "HealthStatusEnum": ["ok", "fail"],
        "MeterStatusEnum": "meters.models.Meter.Status",
        "MeterKindEnum": "meters.models.Meter.Kind",
        "TransformerStatusEnum": "customers.models.Transformer.Status",
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "TariffKindEnum": "customers.models.Tariff.Kind",
        "WeatherSourceEnum": "meters.models.Weather.Source",
        "OccupancySourceEnum": "meters.models.Occupancy.Source",
        "ResolutionEnum": ["raw", "hourly", "daily"],
        "AlertKindEnum": "alerts.models.AlertKind",
        "SeverityEnum": "alerts.models.Severity",
        "ModelFamilyEnum": "predictions.models.ModelVersion.Family",
        "ModelVersionStatusEnum": "predictions.models.ModelVersion.Status",
        "ForecastSubjectKindEnum": "predictions.models.Forecast.SubjectKind",
        "ForecastHorizonEnum": "predictions.models.Forecast.Horizon",
        "AnomalyKindEnum": "predictions.models.Anomaly.Kind",
        "AnomalyStatusEnum": "predictions.models.Anomaly.Status",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
        "core.api.schema.group_by_tag",
    ],
}
