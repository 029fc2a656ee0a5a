from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from analytics.api.views import HealthView
from config.metrics import metrics_view
from config.pwa import manifest, service_worker
from core.api.auth import TokenObtainView, TokenRefreshView, TokenRevokeView
from core.auth import LockoutAuthenticationForm

admin.site.site_header = "Wattwatch administration"
admin.site.site_title = "Wattwatch admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("sw.js", service_worker, name="service-worker"),
    path("manifest.webmanifest", manifest, name="manifest"),
    path("api/v1/", include("analytics.api.urls")),
    path("api/v1/", include("meters.api.urls")),
    path("meters/", include("meters.urls")),
    path("api/v1/", include("alerts.api.urls")),
    path("api/v1/", include("predictions.api.urls")),
    path("api/v1/auth/token", TokenObtainView.as_view(), name="api-token"),
    path("api/v1/auth/token/refresh", TokenRefreshView.as_view(), name="api-token-refresh"),
    path("api/v1/auth/token/revoke", TokenRevokeView.as_view(), name="api-token-revoke"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("alerts/", include("alerts.urls")),
    path("", include("analytics.urls")),
]
