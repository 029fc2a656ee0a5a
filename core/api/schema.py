"""OpenAPI post-processing: every operation documents the error responses it can really give.

Views document their specific errors; this fills in the ones every endpoint shares (a bad query
parameter, a missing or expired token, a page past the end, a throttle), all with the one error
body, so clients and schemathesis know every status an endpoint may answer.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "400": "Invalid input; `error.fields` names each bad field or query parameter.",
    "401": "Not authenticated, or an unknown, revoked or expired token.",
    "403": "Authenticated but not allowed.",
    "404": "No such object in the hostels you may see (or a page past the end).",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}
PUBLIC = ("/health", "/api/v1/health", "/api/schema/")


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["429"]
            if path not in PUBLIC:
                codes += ["401", "403"]
            if operation.get("parameters") or operation.get("requestBody"):
                codes.append("400")
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            if "{" in path or "page" in names or "cursor" in names:
                codes.append("404")
            for code in codes:
                operation["responses"].setdefault(
                    code,
                    {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": ERROR_REF}}},
                )
    return result


# /api/docs/ groups operations by what a reader came for, in this order.
TAGS = [
    {"name": "estate", "description": "Sites, hostels, rooms, meters, occupancy, customers, tariffs, transformers."},
    {"name": "readings", "description": "Meter readings in and out, weather, transformer condition readings."},
    {"name": "alerts", "description": "Alerts and their lifecycle: acknowledge, resolve, snooze, comment, feedback."},
    {"name": "analytics", "description": "Consumption, cost, grid health and hostel comparison; health."},
    {"name": "models", "description": "What the models found and forecast: anomalies, forecasts, segments, risk."},
    {"name": "auth", "description": "JSON Web Tokens for integrations."},
]
_TAG_BY_PREFIX = [
    ("/api/v1/auth/", "auth"),
    ("/api/v1/alerts", "alerts"),
    ("/api/v1/readings/", "readings"),
    ("/api/v1/transformer-condition", "readings"),
    ("/api/v1/weather", "readings"),
    ("/api/v1/analytics/kpis", "models"),
    ("/api/v1/analytics/", "analytics"),
    ("/api/v1/health", "analytics"),
    ("/health", "analytics"),
    ("/api/v1/anomalies", "models"),
    ("/api/v1/detection/", "models"),
    ("/api/v1/forecasts", "models"),
    ("/api/v1/segments", "models"),
    ("/api/v1/transformer-risks", "models"),
    ("/api/v1/model-versions", "models"),
]


def tag_for_path(path: str) -> str:
    """The group of an operation: readings of a room or meter are readings, the rest of /api/v1/ the estate."""
    if path.endswith("/readings"):
        return "readings"
    for prefix, tag in _TAG_BY_PREFIX:
        if path.startswith(prefix):
            return tag
    return "estate"


def group_by_tag(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: one tag per operation, from its path, and the tags' order."""
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["tags"] = [tag_for_path(path)]
    result["tags"] = TAGS
    return result
