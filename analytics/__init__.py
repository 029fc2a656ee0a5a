"""Dashboards, KPIs, exports and system health: `selectors/`, `figures` (Plotly), `services`
(heartbeat), `views`, `api/`, `tasks`, `tests`.

No `models`, `querysets` or `admin`: analytics stores nothing of its own; it reads the apps below.
"""
