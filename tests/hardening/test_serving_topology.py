"""The production topology (docs/decisions/0001): pages and API on gthread workers, sockets on ASGI ones,
nginx routing between them. Read from the files compose runs, since compose itself is not here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_pages_and_api_run_one_request_at_a_time_per_process_and_sockets_on_asgi() -> None:
    found = services()
    http, ws = found["web-http"]["command"], found["web"]["command"]
    assert "config.wsgi:application" in http
    assert "--worker-class gthread --threads 1" in http
    assert "--bind 0.0.0.0:8002" in http
    assert "config.asgi:application" in ws
    assert "uvicorn_worker.UvicornWorker" in ws
    assert "--bind 0.0.0.0:8000" in ws
    # Only the proxy is public among the people-facing processes.
    assert found["proxy"]["ports"] == ["8000:80"]
    assert "ports" not in found["web"]
    assert "ports" not in found["web-http"]
    assert {"web", "web-http"} <= set(found["proxy"]["depends_on"])
    assert "web-http" in found["web-http"]["environment"]["ALLOWED_HOSTS"]


def test_the_proxy_sends_sockets_to_asgi_and_everything_else_to_the_http_workers() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"upstream wattwatch_http \{\s*server web-http:8002;", conf)
    assert re.search(r"upstream wattwatch_ws \{\s*server web:8000;", conf)
    locations = dict(re.findall(r"location (\S+) \{(.*?)\n    \}", conf, re.S))
    assert "proxy_pass http://wattwatch_ws;" in locations["/ws/"]
    assert "proxy_set_header Upgrade $http_upgrade;" in locations["/ws/"]
    assert "proxy_pass http://wattwatch_http;" in locations["/"]
    # A location that sets any header inherits none from the server block: each names Host and the
    # forwarded headers itself (without Host, Django saw the upstream's name and answered 400).
    for body in locations.values():
        for header in ("Host $http_host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID"):
            assert f"proxy_set_header {header}" in body


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    local = conf.replace("web-http:8002", "127.0.0.1:8002").replace("web:8000", "127.0.0.1:8000")
    (tmp_path / "site.conf").write_text(local.replace("listen 80;", "listen 127.0.0.1:18080;"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\ninclude {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
