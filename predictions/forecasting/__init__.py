"""Forecasting services: series from rollups, training, stored forecasts, actuals, capacity."""
