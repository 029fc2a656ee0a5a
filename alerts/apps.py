from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts.receivers import on_stale_meters_found
        from meters.signals import stale_meters_found

        stale_meters_found.connect(on_stale_meters_found, dispatch_uid="alerts.stale_meters")
