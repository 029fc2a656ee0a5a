"""Typed readers for environment variables that fail loudly, naming the variable."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from dotenv import dotenv_values


class ConfigError(Exception):
    """A setting read from the environment is missing or malformed."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read_dotenv(path: Path) -> None:
    """Load a .env file (python-dotenv) without overriding the real environment.

    Values are taken literally (no `${VAR}` expansion, as before); a line without `=` is an error.
    """
    if not path.is_file():
        return
    values = dotenv_values(path, interpolate=False)
    for key, value in values.items():
        if value is None:
            raise ConfigError(f"{path.name}: {key}", "expected KEY=VALUE")
    for key, value in values.items():
        os.environ.setdefault(key, str(value))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(name, "is required but not set")
        return default
    return value


def env_optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(name, f"expected a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ConfigError(name, f"must be at most {maximum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ConfigError(name, f"expected a number, got {value!r}") from None
    if number != number or (minimum is not None and number < minimum):
        raise ConfigError(name, f"must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ConfigError(name, f"must be at most {maximum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(name, f"expected an IANA time zone such as Europe/London, got {value!r}") from None
    return value


def env_database(name: str, *, sqlite_path: Path, conn_max_age: int = 60) -> dict[str, object]:
    """DATABASE_URL as Django settings; absent means the embedded SQLite file."""
    url = env_optional(name)
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {
                # WAL lets the web thread read while the in-process worker writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ConfigError(name, f"expected postgres://user:password@host:port/name (or sqlite:///path), got {url!r}")
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except Exception as error:  # dj-database-url raises several types for malformed URLs
        raise ConfigError(name, f"could not be parsed ({error})") from None
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        raise ConfigError(name, "names no database (expected .../<database name> at the end)")
    return dict(config)


def env_redis(name: str) -> str | None:
    url = env_optional(name)
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(name, f"expected redis://host:port/db, got {url!r}")
    return url


def _write_once(path: Path, content: str, *, replace: bool) -> None:
    """Write `content` to `path` with mode 0600 under a temporary name and link it into place, so two
    processes starting at once agree on one file and nobody reads a half-written one (`replace`: an
    unusable file left by hand is replaced; otherwise a file another process made first wins)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # Fails if another process made one first: use theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    os.chmod(path, 0o600)


def installation_secret_key(path: Path) -> str:
    """This installation's own development key: read from `path`, or made at random on first run.

    A fixed key in the repository would let anyone who reaches a development server sign an
    admin token.
    """
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= 50:
        return key
    import secrets

    _write_once(path, secrets.token_urlsafe(64) + "\n", replace=bool(key))
    key = path.read_text().strip()
    if len(key) < 50:
        raise ConfigError("SECRET_KEY", f"{path} holds no usable key; delete it to make a new one")
    return key


def installation_vapid_key(path: Path) -> str:
    """This installation's Web Push (VAPID) key pair: the private key is kept in `path` (PEM, made on
    first run, as the secret key is); returns the public key as browsers want it (base64url of the
    uncompressed P-256 point). Every web and worker process must read the same file."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def load() -> ec.EllipticCurvePrivateKey | None:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            return None
        except ValueError as error:
            raise ConfigError("VAPID_PRIVATE_KEY_FILE", f"{path} is not a PEM private key ({error})") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ConfigError("VAPID_PRIVATE_KEY_FILE", f"{path} must hold a P-256 (prime256v1) EC key")
        return key

    key = load()
    if key is None:
        made = ec.generate_private_key(ec.SECP256R1())
        pem = made.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_once(path, pem.decode(), replace=False)
        key = load()
        assert key is not None
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()
