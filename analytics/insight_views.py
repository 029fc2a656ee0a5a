"""Pages for insights, the league and targets, opportunities, the residents' page and the digest's unsubscribe."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from analytics.digest import unsubscribe_user_id
from analytics.exports import csv_response
from analytics.models import PublicHostelPage
from analytics.selectors.energy import Insight, insights_for, subject_for_hostel, subject_for_site
from analytics.selectors.league import league_for_user, opportunities_for_user, resident_summary_for
from analytics.services import digest_unsubscribe, hostel_target_set
from core.roles import Role, role_of
from meters.models import Hostel, Site
from meters.selectors import hostel_for_user


def _require_role(request: HttpRequest) -> Role:
    role = role_of(request.user)
    if role is Role.NONE:
        raise PermissionDenied("Your account has no Wattwatch role yet; ask an administrator to assign one.")
    return role


@login_required
def insights(request: HttpRequest) -> HttpResponse:
    """The league of the hostels the user may see, against their targets, and the opportunities ranked by worth."""
    role = _require_role(request)
    hostels = Hostel.objects.visible_to(request.user)
    tokens = (
        dict(PublicHostelPage.objects.filter(hostel__in=hostels, enabled=True).values_list("hostel_id", "token"))
        if role in (Role.MANAGER, Role.ADMIN)
        else {}
    )
    context = {
        "league": [(row, tokens.get(row.hostel_id)) for row in league_for_user(user=request.user)],
        "opportunities": opportunities_for_user(user=request.user),
        "sites": Site.objects.filter(hostels__in=hostels).distinct().order_by("name"),
        "can_set_targets": role in (Role.MANAGER, Role.ADMIN),
    }
    return render(request, "analytics/insights.html", context)


@login_required
@require_POST
def target_set(request: HttpRequest, hostel_id: int) -> HttpResponse:
    """A manager sets a hostel's target (kWh per occupied bed and day)."""
    _require_role(request)
    hostel = hostel_for_user(user=request.user, hostel_id=hostel_id)
    if hostel is None:
        raise Http404("No such hostel.")
    try:
        value = float(request.POST.get("kwh_per_bed_day", ""))
        hostel_target_set(hostel=hostel, kwh_per_bed_day=value, actor=request.user)
    except ValueError:
        messages.error(request, "Target: enter a number of kWh per occupied bed and day, e.g. 3.5.")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, f"Target for {hostel.name} set to {value:g} kWh per occupied bed and day.")
    return redirect("insights")


@login_required
def site_insights(request: HttpRequest, site_id: int) -> HttpResponse:
    """A site's insights over the hostels of it the user may see, out of hours judged by its opening hours."""
    _require_role(request)
    hostels = list(Hostel.objects.visible_to(request.user).filter(site_id=site_id).select_related("site"))
    if not hostels:
        raise Http404("No such site.")
    site = hostels[0].site
    everything = len(hostels) == Hostel.objects.filter(site_id=site_id).count()
    context = {
        "site": site,
        "partial": not everything,
        "hostels": hostels,
        "insights": insights_for(subject=subject_for_site(site, hostels)),
    }
    return render(request, "analytics/site_insights.html", context)


def _insight_rows(items: list[Insight]) -> Any:
    for i in items:
        yield [
            i.key,
            i.summary,
            "" if i.value is None else round(i.value, 4),
            i.unit,
            "" if i.kwh_per_year is None else round(i.kwh_per_year, 1),
            "" if i.cost_per_year is None else round(i.cost_per_year, 2),
            i.currency,
            "" if i.kg_co2_per_year is None else round(i.kg_co2_per_year, 1),
            i.normalized,
        ]


INSIGHT_HEADER = [
    "insight",
    "summary",
    "value",
    "unit",
    "kwh_per_year",
    "cost_per_year",
    "currency",
    "kg_co2_per_year",
    "normalized",
]


@login_required
def hostel_insights_csv(request: HttpRequest, hostel_id: int) -> HttpResponse:
    _require_role(request)
    hostel = hostel_for_user(user=request.user, hostel_id=hostel_id)
    if hostel is None:
        raise Http404("No such hostel.")
    return csv_response(
        filename=f"insights_{hostel.code}.csv",
        actor=request.user,
        header=INSIGHT_HEADER,
        rows=_insight_rows(insights_for(subject=subject_for_hostel(hostel))),
    )


@login_required
def opportunities_csv(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    return csv_response(
        filename="opportunities.csv",
        actor=request.user,
        header=["hostel", "kind", "title", "kwh_per_year", "cost_per_year", "currency", "kg_co2_per_year"],
        rows=(
            [
                o.hostel,
                o.kind,
                o.title,
                round(o.kwh_per_year, 1),
                "" if o.cost_per_year is None else round(o.cost_per_year, 2),
                o.currency,
                round(o.kg_co2_per_year, 1),
            ]
            for o in opportunities_for_user(user=request.user)
        ),
    )


def resident_page(request: HttpRequest, token: str) -> HttpResponse:
    """The residents' read-only page of a hostel: no sign-in, no people, no rooms; 404 unless an admin enabled it."""
    page = PublicHostelPage.objects.filter(token=token, enabled=True).select_related("hostel__site").first()
    if page is None:
        raise Http404("No such page.")
    return render(request, "analytics/resident.html", {"summary": resident_summary_for(hostel=page.hostel)})


def digest_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """The digest's unsubscribe link: a confirmation page, and the POST that unsubscribes (no sign-in needed)."""
    user_id = unsubscribe_user_id(token=token)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        raise Http404("This unsubscribe link is not valid.")
    done = False
    if request.method == "POST":
        digest_unsubscribe(user=user)
        done = True
    return render(request, "analytics/unsubscribe.html", {"done": done, "username": user.get_username()})
