"""Hostile access: sign-in throttling, passwords, CSRF, headers, body limits, exports, secrets."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from conftest import PASSWORD, client_for
from meters.services import gateway_token_create

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _sign_in(client: Client, username: str, password: str, url: str = "/accounts/login/") -> Any:
    return client.post(url, {"username": username, "password": password})


def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(manager: Any) -> None:
    client = Client()
    for _ in range(5):
        assert _sign_in(client, "manager", "wrong-password").status_code == 200
    response = _sign_in(client, "manager", PASSWORD)
    assert response.status_code == 200, "still on the sign-in page"
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_sign_in_is_throttled_too(admin: Any) -> None:
    client = Client()
    for _ in range(5):
        _sign_in(client, "admin", "wrong-password", url="/admin/login/")
    _sign_in(client, "admin", PASSWORD, url="/admin/login/")
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(manager: Any) -> None:
    client = Client()
    for _ in range(4):
        _sign_in(client, "manager", "wrong-password")
    assert _sign_in(client, "manager", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _sign_in(client, "manager", "wrong-password")
    assert _sign_in(client, "manager", PASSWORD).status_code == 302


def test_lockout_of_one_user_does_not_lock_out_another(manager: Any, warden_a: Any) -> None:
    client = Client()
    for _ in range(6):
        _sign_in(client, "manager", "wrong-password")
    assert _sign_in(client, "warden_a", PASSWORD).status_code == 302


@pytest.mark.parametrize("password", ["short1", "password123", "1234567890123", "warden_a_2026"])
def test_weak_passwords_are_refused_by_the_validators(warden_a: Any, password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, user=warden_a)


def test_a_long_unusual_password_passes_the_validators(warden_a: Any) -> None:
    validate_password("copper-kettle-under-stairs-91", user=warden_a)


def _post_forms(campus: Any) -> list[str]:
    return ["/accounts/login/", "/accounts/logout/", "/meters/upload/", "/admin/login/", "/api/v1/readings/batch"]


def test_every_post_form_is_refused_without_a_csrf_token(admin: Any, campus: Any) -> None:
    from alerts.services import alert_raise

    alert = alert_raise(kind="manual", title="CSRF probe", hostel=campus.hostel_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    paths = _post_forms(campus) + [f"/alerts/{alert.pk}/{action}" for action in ("acknowledge", "resolve", "comment")]
    for path in paths:
        response = client.post(path, {"next": "/"})
        assert response.status_code == 403, f"{path} accepted a POST without a CSRF token"


def test_every_post_form_in_the_templates_carries_a_csrf_token() -> None:
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", text, flags=re.S | re.I):
            assert "{% csrf_token %}" in form, f"{template.relative_to(ROOT)} has a POST form without csrf_token"


def test_session_cookie_is_http_only_and_csrf_protected(manager: Any) -> None:
    client = Client()
    _sign_in(client, "manager", PASSWORD)
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_pages_send_the_security_headers(manager: Any) -> None:
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SECURE_SSL_REDIRECT=True,
)
def test_with_production_security_settings_https_is_enforced_and_hsts_sent(db: None) -> None:
    client = Client()
    assert client.get("/accounts/login/").status_code == 301
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_settings_turn_hsts_and_secure_cookies_on(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "Zq8!x" * 8,
        "ALLOWED_HOSTS": "wattwatch.example.org",
        "WATTWATCH_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    python = str(ROOT / ".venv/bin/python")
    out = subprocess.run(
        [python, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == ["31536000", "True", "True", "True"], out.stderr[-2000:]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_batch_endpoint_refuses_an_oversize_body_with_413(campus: Any) -> None:
    _, key = gateway_token_create(name="big", meter_ids=[campus.meter_a.id])
    body = "[" + ",".join(['{"meter":"RM-A-101","timestamp":"2025-01-01T00:00:00Z","kwh":0.1}'] * 100) + "]"
    response = Client().post(
        "/api/v1/readings/batch", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Gateway {key}"
    )
    assert response.status_code == 413
    assert "at most 2048 bytes" in response.json()["error"]["message"]


@override_settings(READINGS_UPLOAD_MAX_BYTES=1024)
def test_upload_page_refuses_an_oversize_file_with_413(manager: Any) -> None:
    upload = SimpleUploadedFile("big.csv", b"meter,timestamp,kwh\n" + b"RM-A-101,2025-01-01T00:00:00Z,0.1\n" * 100)
    response = client_for(manager).post("/meters/upload/", {"file": upload})
    assert response.status_code == 413
    assert "larger than" in response.content.decode()


def test_every_csv_writer_in_the_product_goes_through_safe_cell() -> None:
    # The simulator writes data files for import, not exports for people; it is the one exception.
    allowed = {"analytics/exports.py", "meters/simulation/writer.py"}
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "bench/")) or "/tests/" in relative or relative.startswith("tests/"):
            continue
        text = path.read_text()
        if re.search(r"csv\.(writer|DictWriter)\(", text):
            assert relative in allowed, f"{relative} writes CSV without analytics.exports.csv_response/safe_cell"


def test_exports_neutralise_spreadsheet_formulas(admin: Any, campus: Any) -> None:
    campus.hostel_a.name = '=HYPERLINK("http://evil.example","x")'
    campus.hostel_a.save()
    body = client_for(admin).get("/dashboard/hostels.csv").content.decode()
    assert "=HYPERLINK" in body
    for unsafe in ("\n=HYPERLINK", ",=HYPERLINK", '"=HYPERLINK'):
        assert unsafe not in body


# Built by joining so this file does not match itself.
_SECRET_PATTERNS = [
    re.compile("-----BEGIN " + r"(RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY" + "-----"),
    re.compile("AKI" + r"A[0-9A-Z]{16}"),
    re.compile(r"(sk|rk)_" + r"live_[0-9a-zA-Z]{16,}"),
    re.compile("xox" + r"[baprs]-[0-9A-Za-z-]{10,}"),
    re.compile("gh" + r"[pousr]_[0-9A-Za-z]{30,}"),
    re.compile(r"(?i)(secret_key|password|api_key|token)\s*[=:]\s*[\"'][A-Za-z0-9+/!@#$%^&*_\-]{32,}[\"']"),
]
_ALLOWED_SECRET_LINES = ("django-insecure-", "test-only-secret-key", "persona-password")


def test_no_secret_is_committed_to_the_repository() -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    found: list[str] = []
    for name in filter(None, files):
        relative = name.decode()
        assert not re.search(r"(^|/)\.env$|\.pem$|\.key$|id_rsa", relative), f"{relative} must not be tracked"
        path = ROOT / relative
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(allowed in line for allowed in _ALLOWED_SECRET_LINES):
                continue
            if any(pattern.search(line) for pattern in _SECRET_PATTERNS):
                found.append(f"{relative}:{number}")
    assert not found, f"possible secrets: {found}"
