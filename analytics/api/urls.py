from django.urls import path

from analytics.api.views import GridHealthView, HealthView, HostelComparisonView, OverviewView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    path("analytics/overview", OverviewView.as_view(), name="api-overview"),
    path("analytics/grid-health", GridHealthView.as_view(), name="api-grid-health"),
    path("analytics/hostel-comparison", HostelComparisonView.as_view(), name="api-hostel-comparison"),
]
