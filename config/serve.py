"""Serve Wattwatch: the ASGI app on HOST:PORT, plus Celery in-process when embedded.

`python -m config.serve` is what `make run` calls: one uvicorn process, because the embedded mode's
Celery threads and in-memory broker and channel layer live in it. With REDIS_URL set it serves only
the web process; the worker and beat run as their own processes (see docs/operations.md). Production serves with
gunicorn instead (docker-compose.yml, gunicorn.conf.py). With REPLAY=1 (the
`make run` default, development only) a thread keeps the simulated campus delivering readings.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.checks import load_settings_or_exit

    settings = load_settings_or_exit()
    import django

    django.setup()
    import uvicorn

    from config.env import env_bool, env_int, env_str

    host = env_str("HOST", "127.0.0.1")
    port = env_int("PORT", 8000, minimum=1, maximum=65535)
    embedded = None
    if settings.EMBEDDED:
        from config.embedded import EmbeddedCelery

        embedded = EmbeddedCelery()
        embedded.start()
    if settings.FIRST_RUN:
        # Scan the stored history and train what the dashboards show, in the background (issue 24).
        from predictions.firstrun import first_run_queue

        try:
            queued = first_run_queue()
        except Exception as error:  # a broker down: serve anyway; the next start queues it
            print(f"Could not queue the history scan and first training: {error!r}")
        else:
            if queued["history_scan"] is not None and (queued["scan_status"] != "done" or queued["training_queued"]):
                print("Scanning stored history and training models in the background: progress at /system/")
    replay = None
    if env_bool("REPLAY", False):
        if settings.DEBUG:
            from meters.simulation.replay import ReplayThread

            replay = ReplayThread()
            replay.start()
            print("Replaying the simulated campus (REPLAY=0 turns it off)")
        else:
            print("REPLAY is ignored without DEBUG: it writes simulated readings")
    print(f"Wattwatch serving at http://{host}:{port}/ ({'embedded' if settings.EMBEDDED else 'production'} mode)")
    sys.stdout.flush()
    try:
        # No logging set-up of uvicorn's own: its lines go through settings.LOGGING (one format, JSON when
        # asked). No access line per request: a refused or failed request is logged once, by Django, with
        # its request id.
        uvicorn.run(
            "config.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            log_level="info",
            log_config=None,
            access_log=False,
        )
    finally:
        if replay is not None:
            replay.stop()
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
