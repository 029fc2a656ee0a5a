"""Content-Security-Policy (django-csp), read into settings.CONTENT_SECURITY_POLICY.

Scripts only from our own static files (no inline script: figures travel as JSON data blocks, Swagger
UI's set-up is a file of its own); styles may be set inline because Plotly and Swagger UI style
elements from script; the socket is 'self' (ws/wss).

Fixed data, imported while config/settings.py runs: import nothing here that reads django.conf.settings
(config/openapi.py says why).
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
