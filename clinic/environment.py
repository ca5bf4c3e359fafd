"""Strict readers for settings that come from the environment.

django-environ quietly reads ``DJANGO_DEBUG=maybe`` as False; a clinic system
must not start half-configured, so every reader here raises
``ImproperlyConfigured`` naming the variable and what it expected.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a bool; anything but true/false words is refused."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of true/false, 1/0, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return the variable as an int, refusing non-numbers and values below ``minimum``."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int | None = None) -> list[int]:
    """Return the variable as comma-separated whole numbers (``5,15,30``), refusing an empty list, a
    non-number and a value below ``minimum``."""
    items = env_list(name, [str(number) for number in default])
    if not items:
        raise ImproperlyConfigured(f"{name} needs at least one whole number.")
    numbers = []
    for item in items:
        try:
            numbers.append(int(item))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a whole number.") from None
        if minimum is not None and numbers[-1] < minimum:
            raise ImproperlyConfigured(f"{name}: {numbers[-1]} must be at least {minimum}.")
    return numbers


def env_database(name: str = "DATABASE_URL") -> dict | None:
    """Parse a PostgreSQL URL; other engines are refused because the invariants live in PostgreSQL."""
    value = _raw(name)
    if value is None:
        return None
    scheme = urlparse(value).scheme
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a PostgreSQL URL (postgres://user@host:port/db); got scheme {scheme!r}."
        )
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises several kinds for a malformed URL
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
    # A Unix-socket directory travels percent-encoded in the host part
    # (postgres://user@%2Fpath%2Fto%2Fsocket/db), as the embedded server's URL does.
    if "%2f" in str(config.get("HOST", "")).lower():
        config["HOST"] = unquote(config["HOST"])
    return config


def env_redis(name: str = "REDIS_URL") -> str | None:
    value = _raw(name)
    if value is None:
        return None
    if urlparse(value).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL; got {value!r}.")
    return value
