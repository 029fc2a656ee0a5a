"""Landing pages: what each role sees first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from customers.roles import Role, role_of
from meters.selectors import hostel_for_user, hostels_for_user, readings_latest_for_user, rooms_for_user


def _require_role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Every hostel the user may see, and the latest readings from them."""
    role = _require_role(request)
    context = {
        "hostels": hostels_for_user(user=request.user),
        "latest": readings_latest_for_user(user=request.user, limit=15),
        "role": role,
    }
    return render(request, "analytics/home.html", context)


@login_required
def hostel_detail(request: HttpRequest, hostel_id: int) -> HttpResponse:
    """The rooms of one hostel, floor by floor, with occupancy and recent energy."""
    _require_role(request)
    hostel = hostel_for_user(user=request.user, hostel_id=hostel_id)
    if hostel is None:
        raise Http404("No such hostel.")
    rooms = rooms_for_user(user=request.user, hostel_id=hostel.id)
    floors: dict[int, list] = {}
    for room in rooms:
        floors.setdefault(room.floor, []).append(room)
    context = {
        "hostel": hostel,
        "floors": sorted(floors.items()),
        "latest": readings_latest_for_user(user=request.user, limit=10, hostel_id=hostel.id),
    }
    return render(request, "analytics/hostel_detail.html", context)
