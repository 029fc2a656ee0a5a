"""Schemathesis against the live schema: no 5xx, and every response matches its documented schema.

Bounded: a fixed number of generated cases per operation, so the whole run stays well under a
minute on two cores. Authenticated as the facility manager with a JWT, like an integration.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Estate

pytestmark = [pytest.mark.api_fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _unthrottled() -> Any:
    framework: dict[str, Any] = copy.deepcopy(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(framework["DEFAULT_THROTTLE_RATES"], "1000000/minute")
    return override_settings(REST_FRAMEWORK=framework)


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """The raw WSGI app closes the database connection after each request (as Django's test client
    prevents); that would close the test's transaction on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("_keep_the_test_connection")
def test_every_operation_survives_generated_requests(estate: Estate, manager: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    headers = {"Authorization": f"Bearer {AccessToken.for_user(manager)}"}
    failures: list[str] = []
    operations = 0
    with _unthrottled():
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an Err raises here, failing the test
            operations += 1

            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except BaseException as error:  # collect every operation's failure, then report them all
                if isinstance(error, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
