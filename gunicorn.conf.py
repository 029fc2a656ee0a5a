"""gunicorn's settings for Wattwatch's server processes (gunicorn reads this file from the working
directory); the worker class and the number of workers are on each command line (docker-compose.yml):

- web-http: `gunicorn config.wsgi:application --worker-class gthread --threads 1`, a worker per core (pages
  and API, one request at a time per process);
- web: `gunicorn config.asgi:application --worker-class uvicorn_worker.UvicornWorker` (WebSockets, /ws/);
  the proxy in front (deploy/nginx.conf) routes /ws/ here and everything else to web-http;
- ingest: `gunicorn config.wsgi:application --worker-class gthread --threads 1`, niced (gateways' batches,
  one at a time per process as a sync worker takes them, on kept-alive connections).

X-Forwarded-Proto and the client address are believed only from FORWARDED_ALLOW_IPS (gunicorn's own
variable; default 127.0.0.1): set it to the load balancer's address.

Prometheus (config/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, every worker writes its samples there
and /metrics sums them; the directory is emptied when gunicorn starts and a dead worker's live gauges
are dropped when it exits.
"""

import os
import shutil
from pathlib import Path
from typing import Any

# Gateways post a batch every few seconds on one kept connection (gunicorn's default, 2 s, closed it
# between batches); longer than a load balancer's usual idle timeout (60 s), so the balancer closes first.
keepalive = 75
# No runtime control socket (gunicornc): nothing here uses it, and every gunicorn on a machine would
# share its default path ($HOME/.gunicorn/gunicorn.ctl), as bench/load.py's several servers do.
control_socket_disable = True


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
