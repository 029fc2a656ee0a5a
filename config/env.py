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


def installation_secret_key(path: Path) -> str:
    """This installation's own development key: read from `path`, or made at random on first run.

    A fixed key in the repository would let anyone who reaches a development server sign an
    admin token. The file is written under a temporary name with mode 0600 and linked into place,
    so two processes starting at once agree on one key and nobody reads a half-written file.
    """
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= 50:
        return key
    import secrets
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".secret_key.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if key:  # an unusable (short) key left by hand: replace it
            os.replace(temporary, path)
        else:
            # Fails if another process made one first: use theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    os.chmod(path, 0o600)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ConfigError("SECRET_KEY", f"{path} holds no usable key; delete it to make a new one")
    return key
