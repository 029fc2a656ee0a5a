"""Wattwatch settings, read from the environment (and a .env file when present).

With no DATABASE_URL and no REDIS_URL the product runs embedded: a SQLite file, an in-memory
channel layer and Celery inside the web process. Production sets both.

Fixed data lives beside this file: the OpenAPI schema's settings (config/openapi.py), the
Content-Security-Policy (config/content_policy.py), the task queues and routes (config/queues.py) and
the logging set-up (config/logs.py). Nothing imported here may read django.conf.settings: Django would
load this module again half-run (config/openapi.py says what that broke).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from django_guid.integrations import CeleryIntegration

from config import content_policy, openapi, queues
from config.env import (
    ConfigError,
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_redis,
    env_str,
    env_timezone,
    installation_secret_key,
    installation_vapid_key,
    read_dotenv,
)
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
read_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("WATTWATCH_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

_secret = env_optional("SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ConfigError("SECRET_KEY", "is required when DEBUG is off (set DEBUG=1 for local development)")
    # Development: a random key per installation, kept in the data folder (never a key from the repository).
    _secret = installation_secret_key(DATA_DIR / "secret_key")
elif not DEBUG and len(_secret) < 50:
    raise ConfigError("SECRET_KEY", "must be at least 50 random characters in production")
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ConfigError("ALLOWED_HOSTS", "is required when DEBUG is off (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        sqlite_path=DATA_DIR / "wattwatch.sqlite3",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
    # JIT compilation pays off for long analytical queries, not for a web app's short ones: it added
    # 40-80 ms of compile time to 15 ms dashboard queries on the large campus (measured).
    DATABASES["default"]["OPTIONS"] = {
        **dict(DATABASES["default"].get("OPTIONS") or {}),  # type: ignore[call-overload]
        "options": "-c jit=off",
    }
# Django's own PostgreSQL pool (psycopg_pool), one per process: under ASGI each request runs in a
# thread of its own, so persistent per-thread connections would be one per request; the pool bounds
# them (PostgreSQL refuses clients past max_connections). CONN_HEALTH_CHECKS (set by env_database)
# makes the pool check a connection before handing it out. Celery's prefork children close the pool
# they inherit and open their own (celery.fixups.django). 0 keeps Django's persistent connections.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0, minimum=0, maximum=500)
if DB_POOL_MAX_SIZE and str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool requires it
    DATABASES["default"]["OPTIONS"] = {
        **dict(DATABASES["default"].get("OPTIONS") or {}),  # type: ignore[call-overload]
        "pool": {"min_size": 1, "max_size": DB_POOL_MAX_SIZE, "timeout": 20},
    }
REDIS_URL = env_redis("REDIS_URL")
# `Server-Timing: app;dur=…, cpu;dur=…` on API answers (config/timing.py): off unless asked for
# (bench/load.py and bench/api.py turn it on to split a request's time from the network's).
SERVER_TIMING = env_bool("SERVER_TIMING", False)
EMBEDDED = REDIS_URL is None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "django_guid",
    "customers",
    "meters",
    "predictions",
    "alerts",
    "analytics",
    "axes",
]

MIDDLEWARE = [
    # First: every log line of the request (and the tasks it queues) carries its X-Request-ID.
    "django_guid.middleware.guid_middleware",
    "config.metrics.HttpMetricsMiddleware",  # Prometheus: every request counted and timed (/metrics)
    "config.timing.ServerTimingMiddleware",  # only with SERVER_TIMING (MiddlewareNotUsed otherwise)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: turns a sign-in refused for a lockout into its answer (core/auth.py).
    "axes.middleware.AxesMiddleware",
    # Pages and exports in the site's local time (the API stays UTC): analytics/middleware.py.
    "analytics.middleware.SiteTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.caching.PrivateNoStoreMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.role",
                "alerts.context_processors.open_alerts",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout: django-axes on the shared cache. Failures are counted per (username, address),
# so nobody can lock a user out from elsewhere, and per address, with a higher limit (a campus NAT
# signs many people in); either count at its limit refuses every attempt, even a right password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "core.auth.CachedUserBackend"]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
# Signed-in users and their role groups are kept this long in the shared cache (core/user_cache.py,
# docs/decisions/0003-user-cache.md); changes through the ORM or the admin take effect at once, a
# queryset update() within this time. 0: off.
USER_CACHE_SECONDS = env_int("USER_CACHE_SECONDS", 60, minimum=0, maximum=3600)
# Proxies in front of the web processes whose X-Forwarded-For is trusted (0: none, the peer's
# address is the client's). Throttles and the lockout count the address this names.
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0, maximum=10)
AXES_HANDLER = "core.auth.PairAndAddressCacheHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
# A refused attempt during a lockout does not restart it, and is flagged so the answer says why.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.auth.lockout_response"
# The address is DRF's rule (the throttles'), not django-ipware's: ipware's proxy count expects the
# proxies themselves listed in X-Forwarded-For and finds no client behind a single reverse proxy.
AXES_CLIENT_IP_CALLABLE = "core.auth.client_address"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # its admin pages list the database handler's records; the cache handler keeps none
# Transformer condition readings at or past these raise a "running hot or gassing" alert.
TRANSFORMER_TOP_OIL_ALARM_C = env_int("TRANSFORMER_TOP_OIL_ALARM_C", 95, minimum=40, maximum=150)
TRANSFORMER_GAS_ALARM_PPM = env_int("TRANSFORMER_GAS_ALARM_PPM", 1920, minimum=50, maximum=100_000)
# A reconnecting socket is replayed the events written this long before its cursor too (an
# earlier-numbered event can commit after a later one); the longest transaction that raises alerts
# must fit in it.
ALERT_REPLAY_OVERLAP_SECONDS = env_int("ALERT_REPLAY_OVERLAP_SECONDS", 120, minimum=1, maximum=3600)
# Each socket checks the database this often for events its push missed (0: never).
ALERT_SOCKET_SWEEP_SECONDS = env_int("ALERT_SOCKET_SWEEP_SECONDS", 30, minimum=0, maximum=3600)
# An active alert absorbs new findings on the same meter and kind whose event begins within this many
# hours of its own (a count and "last seen" instead of another alert and notification). 0: never group.
ALERT_GROUP_HOURS = env_int("ALERT_GROUP_HOURS", 24, minimum=0, maximum=24 * 30)
# Dashboard summaries (the overview) are kept this long per scope and period (0: never kept).
ANALYTICS_CACHE_SECONDS = env_int("ANALYTICS_CACHE_SECONDS", 30, minimum=0, maximum=3600)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "analytics.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Ingestion: gaps up to this long are filled with estimates; the Open-Meteo archive API for weather.
INGEST_GAP_FILL_MAX_MINUTES = env_int("INGEST_GAP_FILL_MAX_MINUTES", 120, minimum=0, maximum=24 * 60)
OPEN_METEO_BASE_URL = env_str("OPEN_METEO_BASE_URL", "https://archive-api.open-meteo.com/v1/archive")
ML_MODELS_DIR = Path(env_str("ML_MODELS_DIR", str(BASE_DIR / "ml_models"))).resolve()

# Cache, channel layer and Celery: Redis in production, in-process when embedded.
CACHES: dict[str, dict[str, object]]
CHANNEL_LAYERS: dict[str, dict[str, object]]
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if EMBEDDED:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wattwatch"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "config.layers.ThreadSafeInMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.1}
else:
    assert REDIS_URL is not None
    # django-redis keeps one connection pool per address and process (every request's cache object
    # shares it); the product's own Redis calls use the same pool (django_redis.get_redis_connection).
    # A pooled connection outlives requests, so a Redis that hangs must not hold one forever.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_TIMEOUT": 5,
                "SOCKET_CONNECT_TIMEOUT": 2,
                "CONNECTION_POOL_KWARGS": {"health_check_interval": 30},
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's pub/sub layer: a socket's consumer waits on an in-process queue fed by
            # one subscription per process, not on a blocking Redis read of its own, so closing a
            # socket cancels a queue wait (no Redis command in flight) and quiet sockets hold no
            # read that could time out. Nothing is kept for a socket while it is not subscribed (a
            # reconnect): its replay and its sweep (ALERT_SOCKET_SWEEP_SECONDS) deliver what it missed.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Bounded for a Redis that hangs; the subscription polls every 0.1 s itself.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 2,
                    }
                ],
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task that outlives this is redelivered; long enough for the longest training run (fault
    # tests shorten it to see a killed worker's task come back quickly).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1, maximum=7 * 24 * 3600)
    }

# With Redis down, sending a task must fail fast (callers log it and a sweep catches up) rather
# than hold a web request for the default ~20 s of reconnection attempts.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Four queues, one per kind of work, each with workers of its own (docker-compose: worker-live,
# worker-detection, worker-training, worker-imports; the embedded mode: a worker thread each), so a live
# alert never waits behind detection, training or an import's history scan. Every task is routed by
# name (config/queues.py, docs/queues.md); a worker started without -Q consumes all four.
CELERY_TASK_DEFAULT_QUEUE = queues.LIVE
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {name: {} for name in queues.QUEUES}
CELERY_TASK_ROUTES = queues.ROUTES
CELERY_TASK_EAGER_PROPAGATES = True
HEARTBEAT_SECONDS = env_int("WATTWATCH_HEARTBEAT_SECONDS", 30, minimum=1, maximum=3600)
# Readings older than this when they arrive are history: scanned quietly, found anomalies summed up in one
# notification per scan instead of a toast and an email each (issue 24).
DETECTION_HISTORY_HOURS = env_int("DETECTION_HISTORY_HOURS", 6, minimum=1, maximum=24 * 365)
# Batches of history arriving this close together (a gateway catching up after an outage, several files)
# join one pending scan per site, so they end in one summary; the scan starts after this quiet spell.
# Eager tasks (no worker) cannot wait for a later batch: they start at once.
HISTORY_SCAN_QUIET_SECONDS = env_int(
    "HISTORY_SCAN_QUIET_SECONDS", 0 if CELERY_TASK_ALWAYS_EAGER else 60, minimum=0, maximum=24 * 3600
)
# The first start scans at most this much stored history and then trains forecasts, segments and risk.
FIRST_RUN_HISTORY_DAYS = env_int("FIRST_RUN_HISTORY_DAYS", 120, minimum=1, maximum=3 * 365)
FIRST_RUN = env_bool("FIRST_RUN", True)
# On-demand detection runs one user may have queued and not yet started (429 past it); their rate is
# the `detection` throttle below.
DETECTION_RUNS_QUEUED_MAX = env_int("DETECTION_RUNS_QUEUED_MAX", 3, minimum=1, maximum=1000)

# API tokens are JWTs (access + rotating refresh); see docs/operations.md (The API) for why.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its `WWW-Authenticate: Bearer` makes anonymous calls a 401, not a 403.
        "core.api.jwt.CachedUserJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasRole"],
    # DRF's defaults, with JSON read by orjson first (core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.FastJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "core.api.base.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.UserThrottle",
        "core.api.throttling.AnonymousThrottle",
        "meters.throttling.GatewayThrottle",
    ],
    # Per user (session or JWT), per anonymous address, per gateway key; a rate is "<n>/<second|minute|hour|day>".
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_RATE_USER", "6000/minute"),
        "anon": env_str("API_RATE_ANON", "60/minute"),
        "gateway": env_str("API_RATE_GATEWAY", "600/minute"),
        "token": env_str("API_RATE_TOKEN", "30/minute"),
        "detection": env_str("API_RATE_DETECTION", "10/minute"),
    },
    # The client's address for the anonymous and token throttles: X-Forwarded-For only through trusted proxies.
    "NUM_PROXIES": NUM_PROXIES,
}
SIMPLE_JWT = {
    # Short-lived access tokens are checked without a database query; refresh tokens rotate and the
    # used one is blacklisted, so a stolen refresh token works at most once and can be revoked.
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# The OpenAPI schema (drf-spectacular): config/openapi.py.
SPECTACULAR_SETTINGS = openapi.SPECTACULAR_SETTINGS

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "wattwatch@localhost")
# Absolute links in emails and webhooks.
WATTWATCH_BASE_URL = env_str("WATTWATCH_BASE_URL", "http://localhost:8000")

# Security: strict by default outside development.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Prometheus scrapes inside the private network over plain HTTP (docs/metrics.md).
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Sessions read from the cache (Redis in production) and written through to the database: one
# query less on every signed-in request; a cache miss or a Redis outage falls back to the table.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): config/content_policy.py.
CONTENT_SECURITY_POLICY = content_policy.CONTENT_SECURITY_POLICY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Request bodies and uploaded readings files (sizes, staging, lost imports): config/limits.py, imported
# here, after read_dotenv, so that .env applies to them too.
from config.limits import (  # noqa: E402, F401 - settings are this module's names
    DATA_UPLOAD_MAX_MEMORY_SIZE,
    READINGS_UPLOAD_MAX_BYTES,
    READINGS_UPLOAD_MAX_DECOMPRESSED_BYTES,
    READINGS_UPLOAD_MAX_ROWS,
    REQUEST_BODY_MAX_BYTES,
    UPLOAD_REQUEUE_MINUTES,
    UPLOAD_STAGED_HOURS,
    UPLOAD_STALL_MINUTES,
    UPLOAD_STATUS_REFRESH_SECONDS,
)

# The quarantine: at most this many pending rows per sender (gateway key or user; past it, rejected
# rows are counted and logged, not kept), and rows are deleted this many days after they arrived.
QUARANTINE_MAX_PER_SENDER = env_int("QUARANTINE_MAX_PER_SENDER", 100_000, minimum=1)
QUARANTINE_RETENTION_DAYS = env_int("QUARANTINE_RETENTION_DAYS", 90, minimum=1)
# Retired model versions per family and subject whose artifacts are kept for a rollback (rows are kept for good).
MODEL_ARTIFACTS_KEEP_RETIRED = env_int("MODEL_ARTIFACTS_KEEP_RETIRED", 2, minimum=0, maximum=100)
# Readings history (docs/readings-history.md). PostgreSQL: monthly partitions made this many months
# ahead by a daily beat task. Raw readings older than RAW_READINGS_KEEP_MONTHS whole months are archived
# to Parquet in READINGS_ARCHIVE_DIR and removed, nightly (0: never, the default); rollups stay.
READINGS_PARTITIONS_AHEAD_MONTHS = env_int("READINGS_PARTITIONS_AHEAD_MONTHS", 3, minimum=1, maximum=36)
RAW_READINGS_KEEP_MONTHS = env_int("RAW_READINGS_KEEP_MONTHS", 0, minimum=0, maximum=1200)
READINGS_ARCHIVE_DIR = Path(env_str("READINGS_ARCHIVE_DIR", str(DATA_DIR / "archive"))).resolve()
# Prometheus at /metrics (config/metrics.py, docs/metrics.md): with METRICS_TOKEN, only with
# `Authorization: Bearer <token>`; without, only from these networks (the peer and every X-Forwarded-For
# hop). Celery workers serve their own metrics on METRICS_WORKER_PORT (0: they do not).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(item, strict=False)
    for item in env_list(
        "METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )
]
METRICS_WORKER_PORT = env_int("METRICS_WORKER_PORT", 0, minimum=0, maximum=65535)
if env_optional("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client writes there from its first metric on
    Path(env_str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)
# Lines of the alert event log of closed alerts (resolved, suppressed) older than this are deleted nightly.
ALERT_EVENT_RETENTION_DAYS = env_int("ALERT_EVENT_RETENTION_DAYS", 730, minimum=1)

# Web Push (VAPID): the key pair is made on first run and kept in the data folder like the development
# secret key; every web and worker process must read the same file (a shared volume, or a mounted secret
# named by VAPID_PRIVATE_KEY_FILE). Push endpoints must be https unless DEBUG (the tests' local endpoint).
VAPID_PRIVATE_KEY_FILE = Path(env_str("VAPID_PRIVATE_KEY_FILE", str(DATA_DIR / "vapid_private_key.pem")))
VAPID_PUBLIC_KEY = installation_vapid_key(VAPID_PRIVATE_KEY_FILE)
VAPID_SUBJECT = env_str(
    "VAPID_SUBJECT",
    WATTWATCH_BASE_URL if WATTWATCH_BASE_URL.startswith("https://") else f"mailto:{DEFAULT_FROM_EMAIL}",
)
if not VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ConfigError("VAPID_SUBJECT", "must be a mailto: address or an https:// URL (push services require it)")
WEBPUSH_ALLOW_HTTP = env_bool("WEBPUSH_ALLOW_HTTP", DEBUG)
# Push messages a device's push service may keep while the device is off, in seconds.
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 12 * 3600, minimum=0, maximum=28 * 24 * 3600)

# Request ids (django-guid): X-Request-ID is read from the request (a valid UUID, else a new one is made),
# returned on the response, put on every log line as request_id, and carried into the Celery tasks the
# request queues (and the tasks those queue).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}
# Celery workers keep Django's LOGGING below (one handler: no line twice, same format).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Logs: one line per record on stderr, plain text or JSON (LOG_FORMAT=json, one object per line with
# time, level, logger, message and request_id). A refused request (403, 404) is one line, not a traceback.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ConfigError("LOG_FORMAT", f"is {LOG_FORMAT!r}; use plain or json")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ConfigError("LOG_LEVEL", f"is {LOG_LEVEL!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)  # config/logs.py

# Insights, league, digest and meter health (analytics)
# kg CO2 per kWh where a site has no grid carbon intensity of its own (0.25: a European grid average).
DEFAULT_GRID_CARBON_KG_PER_KWH = env_float("DEFAULT_GRID_CARBON_KG_PER_KWH", 0.25, minimum=0.0, maximum=2.0)
# A meter whose health score (0-100) falls below this raises a low-severity alert for managers.
METER_HEALTH_ALERT_BELOW = env_int("METER_HEALTH_ALERT_BELOW", 50, minimum=0, maximum=100)
# The weekly digest leaves at this local hour on Mondays, in the time zone of the user's (first) site.
DIGEST_LOCAL_HOUR = env_int("DIGEST_LOCAL_HOUR", 7, minimum=0, maximum=23)
