from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = "Detection, forecasting, segmentation and failure risk"

    def ready(self) -> None:
        from meters.signals import readings_ingested
        from predictions.receivers import on_capacity_forecast_exceeded, on_readings_ingested
        from predictions.signals import capacity_forecast_exceeded

        readings_ingested.connect(on_readings_ingested, dispatch_uid="predictions.detect_on_ingest")
        capacity_forecast_exceeded.connect(on_capacity_forecast_exceeded, dispatch_uid="predictions.capacity_alerts")
