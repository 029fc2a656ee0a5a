from django.urls import path

from alerts import preference_views, views

urlpatterns = [
    path("", views.inbox, name="alert-inbox"),
    path("settings/", preference_views.notification_settings, name="notification-settings"),
    path("settings/escalation", preference_views.escalation_settings, name="escalation-settings"),
    path("settings/push-subscriptions", preference_views.push_subscribe, name="push-subscribe"),
    path("settings/push-subscriptions/remove", preference_views.push_unsubscribe, name="push-unsubscribe"),
    path("<int:alert_id>/", views.detail, name="alert-detail"),
    path("<int:alert_id>/calendar-closure", views.closure_add, name="alert-closure-add"),
    path(
        "<int:alert_id>/<str:action>",
        views.act,
        name="alert-action",
    ),
]
