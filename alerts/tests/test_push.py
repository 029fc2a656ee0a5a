"""Web Push against a local push service that decrypts what it receives (aes128gcm): no outside service."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings
from django.test import override_settings

from alerts import services
from alerts.models import PushDelivery, PushSubscription
from alerts.services.push import PushFailed, push_delivery_send
from conftest import client_for

T0 = dt.datetime(2025, 3, 3, 22, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A browser's push service in miniature: keeps the device's private key and auth secret, as a browser
    does, decrypts each message it is sent, and answers with scripted status codes."""

    def __init__(self) -> None:
        self.device_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = secrets.token_bytes(16)
        self.codes: list[int] = []
        self.received: list[dict[str, Any]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                code = service.codes.pop(0) if service.codes else 201
                if code == 201:
                    plain = http_ece.decrypt(
                        body, private_key=service.device_key, auth_secret=service.auth, version="aes128gcm"
                    )
                    service.received.append({"path": self.path, "headers": headers, "payload": json.loads(plain)})
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def subscription(self, name: str = "device-1") -> dict[str, Any]:
        """What `pushManager.subscribe()` gives the page's script, as `subscription.toJSON()`."""
        point = self.device_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.origin}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


def subscribe(user: Any, service: PushService, name: str = "device-1") -> Any:
    response = client_for(user).post(
        "/alerts/settings/push-subscriptions",
        data=json.dumps(service.subscription(name)),
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 15) Chrome/131",
    )
    assert response.status_code == 201, response.content
    return PushSubscription.objects.get(pk=response.json()["id"])


def raise_alert(campus: Any, **extra: Any) -> Any:
    return services.alert_raise(
        kind="anomaly",
        title="Heater left on in A-101",
        explanation="3.9 kWh overnight; expected 1.1 kWh.",
        meter=campus.meter_a,
        score=0.9,
        at=T0,
        **extra,
    )


def verify_vapid(authorization: str, endpoint_origin: str) -> dict[str, Any]:
    """The Authorization header is `vapid t=<JWT>, k=<public key>`: the JWT is signed (ES256) by the
    installation's key and names the push service's origin as its audience."""
    parts = dict(part.strip().split("=", 1) for part in authorization.removeprefix("vapid ").split(","))
    assert parts["k"] == settings.VAPID_PUBLIC_KEY
    header, claims, signature = parts["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    decoded: dict[str, Any] = json.loads(unb64url(claims))
    assert decoded["aud"] == endpoint_origin
    assert decoded["sub"] == settings.VAPID_SUBJECT
    return decoded


def test_a_warden_who_allowed_notifications_gets_the_alert_pushed_encrypted_and_signed(
    campus: Any, warden_a: Any, push_service: PushService, eager_celery: None, on_commit: Any
) -> None:
    subscribe(warden_a, push_service)
    with on_commit():
        alert = raise_alert(campus)
    assert len(push_service.received) == 1
    message = push_service.received[0]
    assert message["path"] == "/push/device-1"
    assert message["payload"]["title"] == "High: Heater left on in A-101"
    assert message["payload"]["url"] == f"/alerts/{alert.pk}/"
    assert message["payload"]["tag"] == f"alert-{alert.pk}"
    assert "Hostel A · A-101" in message["payload"]["body"]
    assert message["headers"]["content-encoding"] == "aes128gcm"
    assert int(message["headers"]["ttl"]) == settings.WEBPUSH_TTL_SECONDS
    verify_vapid(message["headers"]["authorization"], push_service.origin)
    delivery = PushDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("sent", 201, 1)
    assert push_delivery_send(delivery_id=delivery.pk) == "already sent"
    assert len(push_service.received) == 1


def test_another_hostels_warden_gets_no_push(
    campus: Any, warden_a: Any, warden_b: Any, push_service: PushService, eager_celery: None, on_commit: Any
) -> None:
    subscribe(warden_b, push_service)
    with on_commit():
        raise_alert(campus)
    assert push_service.received == []
    assert not PushDelivery.objects.exists()


@pytest.mark.parametrize("code", [404, 410])
def test_a_push_service_saying_the_subscription_is_gone_removes_it(
    campus: Any, warden_a: Any, push_service: PushService, code: int, eager_celery: None, on_commit: Any
) -> None:
    subscribe(warden_a, push_service)
    push_service.codes = [code]
    with on_commit():
        raise_alert(campus)
    assert not PushSubscription.objects.exists()
    delivery = PushDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.subscription_id) == ("failed", code, None)
    assert "expired or was removed" in delivery.last_error
    # The next alert finds no device to push to.
    with on_commit():
        raise_alert(campus, dedupe_key="another")
    assert PushDelivery.objects.count() == 1


def test_a_failing_push_service_is_retried_and_the_device_kept(
    campus: Any, warden_a: Any, push_service: PushService
) -> None:
    subscribe(warden_a, push_service)
    push_service.codes = [503]
    raise_alert(campus)
    delivery = PushDelivery.objects.get()
    with pytest.raises(PushFailed, match="HTTP 503"):
        push_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 503" in delivery.last_error
    assert PushSubscription.objects.count() == 1
    assert push_delivery_send(delivery_id=delivery.pk) == "sent"
    assert len(push_service.received) == 1


def test_a_subscription_must_name_an_https_endpoint_and_real_keys(warden_a: Any, push_service: PushService) -> None:
    client = client_for(warden_a)
    url = "/alerts/settings/push-subscriptions"
    with override_settings(WEBPUSH_ALLOW_HTTP=False):
        refused = client.post(url, data=json.dumps(push_service.subscription()), content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["endpoint"] == ["The endpoint must be an https URL."]
    bad_keys = {**push_service.subscription(), "keys": {"p256dh": "short", "auth": "x"}}
    refused = client.post(url, data=json.dumps(bad_keys), content_type="application/json")
    assert refused.status_code == 400
    assert "wrong length" in refused.json()["errors"]["keys"][0]
    refused = client.post(url, data="not json", content_type="application/json")
    assert refused.status_code == 400
    assert not PushSubscription.objects.exists()


def test_someone_without_a_role_cannot_register_a_device(nobody: Any, push_service: PushService) -> None:
    response = client_for(nobody).post(
        "/alerts/settings/push-subscriptions",
        data=json.dumps(push_service.subscription()),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()


def test_a_warden_removes_only_their_own_device(warden_a: Any, warden_b: Any, push_service: PushService) -> None:
    device = subscribe(warden_a, push_service)
    url = "/alerts/settings/push-subscriptions/remove"
    body = json.dumps({"endpoint": device.endpoint})
    assert client_for(warden_b).post(url, data=body, content_type="application/json").json()["removed"] == 0
    assert PushSubscription.objects.filter(pk=device.pk).exists()
    assert client_for(warden_a).post(url, data=body, content_type="application/json").json()["removed"] == 1
    assert not PushSubscription.objects.exists()


def test_the_app_is_installable_manifest_and_service_worker_at_the_root(client: Any) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["display"] == "standalone"
    assert data["start_url"] == "/"
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/"
    source = b"".join(worker.streaming_content) if worker.streaming else worker.content
    assert b'addEventListener("push"' in source
    assert b"showNotification" in source
