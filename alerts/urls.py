from django.urls import path

from alerts import views

urlpatterns = [
    path("", views.inbox, name="alert-inbox"),
    path("<int:alert_id>/", views.detail, name="alert-detail"),
    path("<int:alert_id>/calendar-closure", views.closure_add, name="alert-closure-add"),
    path(
        "<int:alert_id>/<str:action>",
        views.act,
        name="alert-action",
    ),
]
