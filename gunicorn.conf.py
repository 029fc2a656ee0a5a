"""gunicorn's settings for Wattwatch's server processes (gunicorn reads this file from the working
directory); the worker class and the number of workers are on each command line (docker-compose.yml):

- web: `gunicorn config.asgi:application --worker-class uvicorn_worker.UvicornWorker`, a worker per core
  (pages, API and WebSockets);
- ingest: `gunicorn config.wsgi:application --worker-class gthread --threads 1`, niced (gateways' batches,
  one at a time per process as a sync worker takes them, on kept-alive connections).

X-Forwarded-Proto and the client address are believed only from FORWARDED_ALLOW_IPS (gunicorn's own
variable; default 127.0.0.1): set it to the load balancer's address.
"""

# Gateways post a batch every few seconds on one kept connection (gunicorn's default, 2 s, closed it
# between batches); longer than a load balancer's usual idle timeout (60 s), so the balancer closes first.
keepalive = 75
# No runtime control socket (gunicornc): nothing here uses it, and every gunicorn on a machine would
# share its default path ($HOME/.gunicorn/gunicorn.ctl), as bench/load.py's several servers do.
control_socket_disable = True
