"""First run, timed: `make run`'s steps on an empty database, then what warden_a and the manager see.

Runs migrate, seed_demo --if-empty, train_baseline --if-missing and `python -m config.serve` (as the
Makefile's `run` target does) in a temporary directory, signs in over HTTP as warden_a and as the
manager, and polls their pages until warden_a's inbox lists alerts found in history and no panel of
the manager's dashboard says "yet". Prints progress, then one JSON object as the last line.

    .venv/bin/python bench/first_run.py                     # embedded: SQLite, Celery in the web process
    .venv/bin/python bench/first_run.py --postgres postgres://postgres@127.0.0.1:5432 --redis redis://127.0.0.1:6379/9
        # PostgreSQL + Redis: a scratch database wattwatch_firstrun_bench and a separate worker and beat
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "wattwatch-demo"  # the demo seed's public password
NOT_YET = ("No forecast yet", "No transformer risk scores yet", "No segments yet")
DB_NAME = "wattwatch_firstrun_bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(step: str, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    print(f"{step}: {seconds:.1f} s", flush=True)
    return seconds


def _session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    answer.raise_for_status()
    assert "sessionid" in session.cookies, f"{username} could not sign in"
    return session


def _postgres(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rstrip("/") + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=20 * 60, help="Give up after this many seconds of serving.")
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--replay", action="store_true", help="Replay live readings too (REPLAY=1, as make run).")
    parser.add_argument("--postgres", help="A PostgreSQL server URL; the bench creates its own scratch database.")
    parser.add_argument("--database", default=DB_NAME, help="The scratch database's name (dropped and made anew).")
    parser.add_argument("--redis", help="A Redis URL (a database of its own: it is flushed); needs --postgres.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory.")
    parser.add_argument(
        "--wait-scan", action="store_true", help="Also wait for the whole history scan and warden_a's summary."
    )
    options = parser.parse_args()
    if bool(options.postgres) != bool(options.redis):
        parser.error("--postgres and --redis go together (the production topology)")
    workdir = Path(tempfile.mkdtemp(prefix="wattwatch-firstrun-"))
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "WATTWATCH_DATA_DIR": str(workdir),
        "ML_MODELS_DIR": str(workdir / "ml_models"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "REPLAY": "1" if options.replay else "0",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    mode = "embedded"
    if options.postgres:
        import redis

        env["DATABASE_URL"] = _postgres(options.postgres, options.database)
        env["REDIS_URL"] = options.redis
        redis.Redis.from_url(options.redis).flushdb()
        mode = "postgresql+redis"
    report: dict[str, Any] = {"mode": mode, "replay": options.replay}
    report["migrate_s"] = round(_run("migrate", ["manage.py", "migrate", "--noinput"], env), 1)
    report["seed_s"] = round(_run("seed_demo", ["manage.py", "seed_demo", "--if-empty"], env), 1)
    report["baseline_s"] = round(_run("train_baseline", ["manage.py", "train_baseline", "--if-missing"], env), 1)
    processes: list[subprocess.Popen[bytes]] = []
    log = open(workdir / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    started = time.perf_counter()
    try:
        processes.append(
            subprocess.Popen([sys.executable, "-m", "config.serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
        )
        if options.redis:
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            processes.append(
                subprocess.Popen(
                    [*celery, "worker", "--loglevel", "INFO", "--concurrency", "1"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
            beat = ["beat", "--loglevel", "INFO", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
            processes.append(subprocess.Popen([*celery, *beat], cwd=ROOT, env=env, stdout=log, stderr=log))
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                requests.get(f"{base}/accounts/login/", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.perf_counter() - started > 120:
                    raise SystemExit("the server did not answer within 120 s; see serve.log") from None
                time.sleep(0.5)
        report["first_page_s"] = round(time.perf_counter() - started, 1)
        print(f"first page after {report['first_page_s']} s", flush=True)
        warden, manager = _session(base, "warden_a"), _session(base, "manager")
        admin = _session(base, "admin")
        inbox_at = dashboard_at = scan_done_at = None
        while time.perf_counter() - started < options.timeout:
            elapsed = round(time.perf_counter() - started, 1)
            inbox = warden.get(f"{base}/alerts/", timeout=60).text
            history_rows = inbox.count(">found in history</span>")
            if inbox_at is None and history_rows:
                inbox_at = elapsed
                report["inbox_alerts_on_first_page"] = history_rows
            dashboard = manager.get(f"{base}/dashboard/", timeout=60).text
            missing = [text for text in NOT_YET if text in dashboard]
            if dashboard_at is None and not missing:
                dashboard_at = elapsed
            system = admin.get(f"{base}/system/", timeout=60).text
            scan = re.search(r'<td class="num">(\d+) / (\d+)</td><td class="num">(\d+)</td>', system)
            scan_text = f"scan {scan.group(1)}/{scan.group(2)} meters, {scan.group(3)} findings" if scan else "no scan"
            summary = re.search(r"<li>(History scan of Hostel A: [^<]+)", inbox)
            if scan_done_at is None and summary:
                scan_done_at = elapsed
                report["warden_a_summary"] = summary.group(1)
                report["scan_findings"] = int(scan.group(3)) if scan else None
            print(
                f"{elapsed:7.1f} s  warden_a inbox: {history_rows} found in history  "
                f"dashboard still 'yet': {', '.join(missing) or 'none'}  ({scan_text})",
                flush=True,
            )
            if inbox_at is not None and dashboard_at is not None and (scan_done_at or not options.wait_scan):
                break
            time.sleep(options.poll)
        report["inbox_alerts_s"] = inbox_at
        report["dashboard_filled_s"] = dashboard_at
        if options.wait_scan:
            report["scan_summary_s"] = scan_done_at
        report["within_15_min"] = (
            inbox_at is not None
            and dashboard_at is not None
            and max(inbox_at, dashboard_at) - report["first_page_s"] <= 15 * 60
        )
        report["load_average_1min"] = round(os.getloadavg()[0], 1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        report["workdir"] = str(workdir) if options.keep else None
        if not options.keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
