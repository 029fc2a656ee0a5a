"""Landing pages per role: real data, and nothing from hostels a warden is not assigned to."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from analytics.tests.insight_data import HOSTEL_INSIGHTS_QUERIES
from conftest import client_for


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_the_login_page(client: Any) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_warden_landing_shows_own_hostel_and_its_meters_only(campus: Any, warden_a: Any) -> None:
    response = client_for(warden_a).get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hostel A" in body
    assert "RM-A-101" in body  # silent: the campus fixture's meters have sent nothing
    assert "Hostel B" not in body
    assert "RM-B-101" not in body


@pytest.mark.django_db
def test_manager_landing_shows_every_hostel(campus: Any, manager: Any) -> None:
    body = client_for(manager).get(reverse("home")).content.decode()
    assert "Hostel A" in body
    assert "Hostel B" in body


@pytest.mark.django_db
def test_warden_cannot_open_another_hostels_page(campus: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    assert client.get(reverse("hostel-detail", args=[campus.hostel_a.id])).status_code == 200
    assert client.get(reverse("hostel-detail", args=[campus.hostel_b.id])).status_code == 404


@pytest.mark.django_db
def test_user_without_a_role_is_refused(campus: Any, nobody: Any) -> None:
    response = client_for(nobody).get(reverse("home"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_admin_sees_the_link_into_the_django_admin(campus: Any, admin: Any) -> None:
    body = client_for(admin).get(reverse("home")).content.decode()
    assert reverse("admin:index") in body


@pytest.mark.django_db
def test_home_page_query_count_does_not_grow_with_hostels(
    campus: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    from meters.tests.factories import HostelFactory, MeterFactory, ReadingFactory, RoomFactory

    for _ in range(5):
        room = RoomFactory.create(hostel=HostelFactory.create())
        ReadingFactory.create(meter=MeterFactory.create(room=room))
    client = client_for(manager)
    # What needs attention: alerts by severity and the newest, rooms above expected (rooms, meters, scanned
    # hours, alerts: one query each for every hostel), silent meters (their intervals, how many, the first
    # few: counted in SQL), today and usual days; the site's zone; the hostels' kg CO2 of the last 24 h (one query).
    with django_assert_max_num_queries(19):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_hostel_page_query_count_does_not_grow_with_rooms(
    campus: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    from meters.tests.factories import MeterFactory, RoomFactory

    for index in range(20):
        MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a, number=f"X{index}"))
    client = client_for(manager)
    with django_assert_max_num_queries(
        12 + 3 + HOSTEL_INSIGHTS_QUERIES
    ):  # + heat map: rooms, rollup windows, anomalies
        assert client.get(reverse("hostel-detail", args=[campus.hostel_a.id])).status_code == 200


@pytest.mark.django_db
def test_health_reports_each_component(client: Any) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    names = {check["name"] for check in response.json()["checks"]}
    assert names == {"database", "redis", "worker", "model_artifacts", "data_freshness"}


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings() -> None:
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
