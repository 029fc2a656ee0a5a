"""The Django admin is the configuration tool: every page must open, and big tables stay cheap."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from conftest import client_for


@pytest.mark.django_db
def test_every_admin_changelist_and_add_page_opens(campus: Any, admin: Any) -> None:
    client = client_for(admin)
    for model, model_admin in django_admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, f"{info} changelist: {response.status_code}"
        if model_admin.has_add_permission(response.wsgi_request):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, f"{info} add"


@pytest.mark.django_db
def test_readings_admin_filters_by_recent_period_without_a_date_hierarchy(campus: Any, admin: Any) -> None:
    from django.utils import timezone

    from meters.tests.factories import ReadingFactory

    ReadingFactory.create(meter=campus.meter_a, timestamp=timezone.now().replace(second=0, microsecond=0))
    client = client_for(admin)
    url = reverse("admin:meters_reading_changelist")
    recent = client.get(url, {"period": "1h"})
    assert recent.status_code == 200
    assert recent.context["cl"].result_count == 1
    assert client.get(url).context["cl"].result_count == 3


@pytest.mark.django_db
def test_managers_cannot_open_the_admin(campus: Any, manager: Any) -> None:
    response = client_for(manager).get(reverse("admin:index"))
    assert response.status_code == 302
