from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"
    verbose_name = "Detection, forecasting, segmentation and failure risk"

    def ready(self) -> None:
        from meters.signals import readings_ingested
        from predictions.receivers import on_readings_ingested

        readings_ingested.connect(on_readings_ingested, dispatch_uid="predictions.detect_on_ingest")
