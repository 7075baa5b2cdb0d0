"""Settings, read once from the environment. Every variable and its default:

STOCKCOUNT_DATABASE_URL      sqlite+aiosqlite:///var/stockcount.sqlite3 (relative to the
                             working directory). A postgresql+asyncpg:// URL (or plain
                             postgresql://) switches to PostgreSQL.
STOCKCOUNT_HOST              127.0.0.1
STOCKCOUNT_PORT              8000
STOCKCOUNT_TOKEN_TTL_HOURS   12    lifetime of a user's API token
STOCKCOUNT_ENROLLMENT_TTL_MINUTES  60  default lifetime of a device enrollment code
STOCKCOUNT_MAX_BODY_BYTES    33554432 (32 MiB) largest request body accepted
STOCKCOUNT_LOG_LEVEL         INFO
STOCKCOUNT_LOG_FORMAT        text  or json: one JSON object a line (a request's line carries
                             request_id, method, route, status, duration_ms, caller)
STOCKCOUNT_DEVICE_STALE_MINUTES  30  a device that has not synced for longer shows as stale
STOCKCOUNT_SECRET_KEY        (a new one per process) signs the web pages' CSRF tokens: set one
                             shared value when several processes serve one database
STOCKCOUNT_TRUSTED_PROXIES   (none) addresses or CIDR networks of the reverse proxies in
                             front, separated by commas: only from these peers are
                             X-Forwarded-For and X-Forwarded-Proto honoured (the client is
                             the rightmost address that is not a trusted proxy)
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/stockcount.sqlite3"


def normalize_database_url(url: str) -> str:
    """Accept the URLs people write and give SQLAlchemy the async driver for each."""
    url = url.strip()
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError(
        f"STOCKCOUNT_DATABASE_URL {url!r} is not supported: use sqlite:///PATH "
        "or postgresql://USER@HOST:PORT/DB"
    )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


def parse_trusted_proxies(raw: str) -> tuple[str, ...]:
    """`10.0.0.1, 10.1.0.0/16 ::1` -> the networks, normalized; a clear error for a bad one."""
    found: list[str] = []
    for part in raw.replace(",", " ").split():
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(
                f"STOCKCOUNT_TRUSTED_PROXIES: {part!r} is not an IP address or network "
                "(write e.g. 127.0.0.1, 10.0.0.0/8 or ::1, separated by commas)"
            ) from None
    return tuple(found)


def _log_format(raw: str) -> str:
    if raw.strip().lower() not in ("text", "json"):
        raise ValueError(f"STOCKCOUNT_LOG_FORMAT must be text or json, not {raw!r}")
    return raw.strip().lower()


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl_hours: int = 12
    enrollment_ttl_minutes: int = 60
    max_body_bytes: int = 32 * 1024 * 1024
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one JSON object a line
    device_stale_minutes: int = 30
    # Signs the web pages' CSRF tokens. Several server processes behind one database must
    # share it (STOCKCOUNT_SECRET_KEY); unset, each process makes its own at start.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # Networks (normalized, e.g. "127.0.0.1/32") whose X-Forwarded-* headers are honoured.
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=normalize_database_url(
                env.get("STOCKCOUNT_DATABASE_URL") or DEFAULT_DATABASE_URL
            ),
            host=env.get("STOCKCOUNT_HOST") or "127.0.0.1",
            port=_int(env, "STOCKCOUNT_PORT", 8000),
            token_ttl_hours=_int(env, "STOCKCOUNT_TOKEN_TTL_HOURS", 12),
            enrollment_ttl_minutes=_int(env, "STOCKCOUNT_ENROLLMENT_TTL_MINUTES", 60),
            max_body_bytes=_int(env, "STOCKCOUNT_MAX_BODY_BYTES", 32 * 1024 * 1024),
            log_level=(env.get("STOCKCOUNT_LOG_LEVEL") or "INFO").upper(),
            log_format=_log_format(env.get("STOCKCOUNT_LOG_FORMAT") or "text"),
            device_stale_minutes=_int(env, "STOCKCOUNT_DEVICE_STALE_MINUTES", 30),
            secret_key=env.get("STOCKCOUNT_SECRET_KEY") or secrets.token_urlsafe(32),
            trusted_proxies=parse_trusted_proxies(env.get("STOCKCOUNT_TRUSTED_PROXIES") or ""),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
