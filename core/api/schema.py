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
