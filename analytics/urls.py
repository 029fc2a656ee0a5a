from django.urls import path

from analytics import views

urlpatterns = [
    path("", views.home, name="home"),
    path("hostels/<int:hostel_id>/", views.hostel_detail, name="hostel-detail"),
]
