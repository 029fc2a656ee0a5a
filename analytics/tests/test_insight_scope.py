"""Insights, league, opportunities and meter health: a warden sees their hostel only, by page, API and export;
the residents' page shows no people and no rooms, and only once an admin turned it on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from analytics.models import HostelTarget, PublicHostelPage
from analytics.tests.insight_data import load, occupy, priced
from conftest import client_for


@pytest.fixture
def data(campus: Any) -> Any:
    priced(campus.meter_a)
    priced(campus.meter_b)
    occupy(campus.room_a, 4)
    occupy(campus.room_b, 2)
    start = timezone.localdate() - dt.timedelta(days=28)
    load(campus.meter_a, start=start, days=28)
    load(campus.meter_b, start=start, days=28)  # twice Hostel A's use per bed: an opportunity in Hostel B
    return campus


@pytest.mark.django_db
def test_warden_insights_page_shows_their_hostel_only(data: Any, warden_a: Any) -> None:
    body = client_for(warden_a).get("/insights/").content.decode()
    assert "Hostel A" in body
    assert "Hostel B" not in body
    assert "1 of 2" in body  # its place in the site's whole league, as its residents see it
    assert "Set target" not in body  # managers set targets


@pytest.mark.django_db
def test_manager_sees_the_league_and_the_opportunity_and_sets_a_target(data: Any, manager: Any) -> None:
    client = client_for(manager)
    body = client.get("/insights/").content.decode()
    assert "Hostel B&#x27;s night baseload is 100% above Hostel A&#x27;s per bed" in body
    response = client.post(f"/hostels/{data.hostel_b.pk}/target", {"kwh_per_bed_day": "12.5"})
    assert response.status_code == 302
    assert HostelTarget.objects.get(hostel=data.hostel_b).kwh_per_bed_day == 12.5
    client.post(f"/hostels/{data.hostel_b.pk}/target", {"kwh_per_bed_day": "lots"})
    assert "enter a number" in client.get("/insights/").content.decode()


@pytest.mark.django_db
def test_warden_cannot_set_a_target_even_for_their_hostel(data: Any, warden_a: Any, warden_b: Any) -> None:
    assert client_for(warden_a).post(f"/hostels/{data.hostel_a.pk}/target", {"kwh_per_bed_day": "1"}).status_code == 403
    assert client_for(warden_a).post(f"/hostels/{data.hostel_b.pk}/target", {"kwh_per_bed_day": "1"}).status_code == 404
    assert not HostelTarget.objects.exists()


@pytest.mark.django_db
def test_hostel_and_room_pages_show_insights_with_cost_and_carbon(data: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    hostel = client.get(f"/hostels/{data.hostel_a.pk}/").content.decode()
    assert 'data-insight="baseload"' in hostel
    assert "kg CO2" in hostel
    assert "A year: 4,380 kWh, €876, 1,095 kg CO2" in hostel  # the 0.5 kW floor: 8,760 h at €0.20 and 0.25 kg
    room = client.get(f"/rooms/{data.room_a.pk}/").content.decode()
    assert 'data-insight="out_of_hours"' in room
    assert 'data-meter="RM-A-101"' in room  # its health
    assert client.get(f"/rooms/{data.room_b.pk}/").status_code == 404


@pytest.mark.django_db
def test_warden_site_page_sums_only_their_hostels(data: Any, warden_a: Any, manager: Any) -> None:
    site = data.hostel_a.site_id
    body = client_for(warden_a).get(f"/sites/{site}/").content.decode()
    assert "the hostels you see: Hostel A" in body
    assert "Hostel B" not in body
    assert "Hostel B" in client_for(manager).get(f"/sites/{site}/").content.decode()


@pytest.mark.django_db
def test_warden_exports_hold_their_hostel_only(data: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    assert client.get(f"/hostels/{data.hostel_b.pk}/insights.csv").status_code == 404
    own = client.get(f"/hostels/{data.hostel_a.pk}/insights.csv").content.decode()
    assert own.startswith("insight,summary,value")
    assert "baseload" in own
    assert "Hostel B" not in client.get("/insights/opportunities.csv").content.decode()


@pytest.mark.django_db
def test_warden_api_answers_for_their_hostel_only(data: Any, warden_a: Any) -> None:
    client = client_for(warden_a)
    assert client.get(f"/api/v1/analytics/insights?hostel={data.hostel_b.pk}").status_code == 404
    assert client.get(f"/api/v1/analytics/insights?room={data.room_b.pk}").status_code == 404
    own = client.get(f"/api/v1/analytics/insights?hostel={data.hostel_a.pk}").json()
    baseload = next(i for i in own if i["key"] == "baseload")
    assert baseload["value"] == pytest.approx(0.5)
    assert baseload["cost_per_year"] == pytest.approx(0.5 * 8760 * 0.2)
    league = client.get("/api/v1/analytics/league").json()
    assert [(r["name"], r["place"], r["of"]) for r in league] == [("Hostel A", 1, 2)]
    assert all(o["hostel"] == "Hostel A" for o in client.get("/api/v1/analytics/opportunities").json())
    assert [h["serial"] for h in client.get("/api/v1/analytics/meter-health").json()["results"]] == ["RM-A-101"]
    assert client.get(f"/api/v1/analytics/meter-health?meter={data.meter_b.pk}").json()["results"] == []


@pytest.mark.django_db
def test_insights_api_says_what_is_wrong_with_its_query(data: Any, manager: Any) -> None:
    response = client_for(manager).get(f"/api/v1/analytics/insights?hostel={data.hostel_a.pk}&room=1")
    assert response.status_code == 400
    assert "exactly one of hostel, room or site" in response.content.decode()
    assert client_for(manager).get("/api/v1/analytics/meter-health?meter=x").status_code == 400


@pytest.mark.django_db
def test_system_page_lists_meter_health_for_admins(data: Any, admin: Any) -> None:
    body = client_for(admin).get("/system/").content.decode()
    assert 'id="h-health"' in body
    assert 'data-meter="RM-B-101"' in body


@pytest.mark.django_db
def test_residents_page_is_off_until_an_admin_turns_it_on_and_shows_no_rooms_or_people(
    data: Any, warden_a: Any, client: Any
) -> None:
    page = PublicHostelPage.objects.create(hostel=data.hostel_a)
    assert client.get(f"/residents/{page.token}/").status_code == 404
    page.enabled = True
    page.save()
    body = client.get(f"/residents/{page.token}/").content.decode()
    assert "Hostel A: our energy this week" in body
    assert "Three tips" in body
    assert "of 2 hostels" in body
    for private in ("A-101", "RM-A-101", "warden_a", "Hostel B"):
        assert private not in body
    assert client.get("/residents/not-a-token/").status_code == 404
