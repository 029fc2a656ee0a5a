from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from analytics.api.insights import InsightsView, LeagueView, MeterHealthView, OpportunitiesView
from analytics.api.savings import InterventionViewSet
from analytics.api.views import GridHealthView, HealthView, HostelComparisonView, OverviewView

urlpatterns: list[URLPattern | URLResolver] = [
    path("health", HealthView.as_view(), name="api-health"),
    path("analytics/overview", OverviewView.as_view(), name="api-overview"),
    path("analytics/grid-health", GridHealthView.as_view(), name="api-grid-health"),
    path("analytics/insights", InsightsView.as_view(), name="api-insights"),
    path("analytics/league", LeagueView.as_view(), name="api-league"),
    path("analytics/opportunities", OpportunitiesView.as_view(), name="api-opportunities"),
    path("analytics/meter-health", MeterHealthView.as_view(), name="api-meter-health"),
    path("analytics/hostel-comparison", HostelComparisonView.as_view(), name="api-hostel-comparison"),
]
router = SimpleRouter(trailing_slash=False)
router.register("analytics/interventions", InterventionViewSet, basename="api-intervention")
urlpatterns += router.urls
