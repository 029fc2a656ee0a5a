from django.urls import path

from meters import views

urlpatterns = [
    path("upload/", views.readings_upload, name="readings-upload"),
]
