from django.urls import path
from rest_framework.routers import SimpleRouter

from analytics.api.savings import InterventionViewSet
from analytics.api.views import GridHealthView, HealthView, HostelComparisonView, OverviewView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    path("analytics/overview", OverviewView.as_view(), name="api-overview"),
    path("analytics/grid-health", GridHealthView.as_view(), name="api-grid-health"),
    path("analytics/hostel-comparison", HostelComparisonView.as_view(), name="api-hostel-comparison"),
]
router = SimpleRouter(trailing_slash=False)
router.register("analytics/interventions", InterventionViewSet, basename="api-intervention")
urlpatterns += router.urls
