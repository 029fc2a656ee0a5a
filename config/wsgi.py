"""WSGI entry point: the gateways' ingest processes (gunicorn gthread workers: HTTP only, no sockets).

People's web processes serve config.asgi (pages, API and WebSockets); see docker-compose.yml.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_wsgi_app = get_wsgi_application()

from config.bodylimit import WSGIBodyLimit  # noqa: E402

application = WSGIBodyLimit(django_wsgi_app)
