from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts.receivers import on_stale_meters_found, on_transformer_condition_ingested
        from meters.signals import stale_meters_found, transformer_condition_ingested

        stale_meters_found.connect(on_stale_meters_found, dispatch_uid="alerts.stale_meters")
        transformer_condition_ingested.connect(on_transformer_condition_ingested, dispatch_uid="alerts.condition")
