"""Signals other apps may connect to; predictions never imports their models.

`capacity_forecast_exceeded` is sent once per transformer per forecast run when the forecast peak
demand is above the configured share of the transformer's rating (settings.FORECAST_CAPACITY_SHARE,
default 0.8). Keyword arguments:

- `warning`: a `predictions.forecasting.services.CapacityWarning` (transformer_id, transformer_code,
  capacity_kva, peak_kva, peak_at (UTC datetime), share (peak_kva / capacity_kva), threshold,
  model_version_id).

Sent after the forecasts are committed. The alerts app connects a receiver that calls its own
`alert_raise`; sender is the string "predictions.forecasting".
"""

from __future__ import annotations

from django.dispatch import Signal

capacity_forecast_exceeded = Signal()
