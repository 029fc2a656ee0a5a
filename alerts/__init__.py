"""Alerts, their lifecycle, notification rules and live push: `models`, `querysets`, `services/`,
`selectors`, `api/`, `views`, `consumers` and `realtime` (WebSockets), `tasks`, `admin`, `tests`."""
