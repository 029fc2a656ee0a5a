from django.urls import path

from analytics import insight_views, system_views, views
from analytics.savings import views as savings_views

urlpatterns = [
    path("", views.home, name="home"),
    path("hostels/<int:hostel_id>/", views.hostel_detail, name="hostel-detail"),
    path("rooms/<int:room_id>/", views.room_detail, name="room-detail"),
    path("rooms/<int:room_id>/hours.csv", views.room_hours_csv, name="room-hours-csv"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/hostels.csv", views.dashboard_hostels_csv, name="dashboard-hostels-csv"),
    path("dashboard/forecast.csv", views.dashboard_forecast_csv, name="dashboard-forecast-csv"),
    path("dashboard/risks.csv", views.dashboard_risks_csv, name="dashboard-risks-csv"),
    path("dashboard/segments.csv", views.dashboard_segments_csv, name="dashboard-segments-csv"),
    path("dashboard/alerts.csv", views.dashboard_alerts_csv, name="dashboard-alerts-csv"),
    path("interventions/", savings_views.intervention_list, name="intervention-list"),
    path("interventions/new/", savings_views.intervention_new, name="intervention-new"),
    path("interventions/<int:pk>/", savings_views.intervention_detail, name="intervention-detail"),
    path("hostels/<int:hostel_id>/insights.csv", insight_views.hostel_insights_csv, name="hostel-insights-csv"),
    path("hostels/<int:hostel_id>/target", insight_views.target_set, name="hostel-target-set"),
    path("sites/<int:site_id>/", insight_views.site_insights, name="site-insights"),
    path("insights/", insight_views.insights, name="insights"),
    path("insights/opportunities.csv", insight_views.opportunities_csv, name="opportunities-csv"),
    path("residents/<str:token>/", insight_views.resident_page, name="resident-page"),
    path("digest/unsubscribe/<str:token>/", insight_views.digest_unsubscribe_view, name="digest-unsubscribe"),
    path("interventions/<int:pk>/measure/", savings_views.intervention_measure_now, name="intervention-measure"),
    path("system/", system_views.system, name="system"),
    path("system/freshness.csv", system_views.system_freshness_csv, name="system-freshness-csv"),
]
