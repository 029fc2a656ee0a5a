"""Detection, forecasting, segmentation, failure risk and model versions: `models`, `querysets`,
`services` (every write, defined in the module named for its family: `detection/`, `forecasting/`,
`segmentation`, `failure_risk`, `training`), `selectors`, `ml/` (the model families), `api/`,
`tasks`, `admin`, `tests`.

No `views`: predictions are shown on the dashboard and model versions on /system/ (`analytics.views`).
"""
