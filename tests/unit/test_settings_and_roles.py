"""Settings from the environment, and the role rules (401 vs 403 starts here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.auth import (
    Caller,
    CallerKind,
    check_not_expired,
    new_enrollment_code,
    normalize_enrollment_code,
    require_device,
    require_role,
    secret_hash,
)
from server.domain.errors import NotAuthenticated, PermissionDenied
from server.domain.masterdata import Role
from server.settings import DEFAULT_DATABASE_URL, Settings, normalize_database_url


def test_defaults_use_a_sqlite_file() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert settings.port == 8000


def test_postgres_url_switches_driver() -> None:
    s = Settings.from_env({"STOCKCOUNT_DATABASE_URL": "postgresql://u@h:5432/db"})
    assert s.database_url == "postgresql+asyncpg://u@h:5432/db"
    assert not s.is_sqlite
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STOCKCOUNT_DATABASE_URL": "mysql://x"}, "not supported"),
        ({"STOCKCOUNT_PORT": "eighty"}, "STOCKCOUNT_PORT must be a whole number"),
        ({"STOCKCOUNT_PORT": "-1"}, "must be positive"),
    ],
)
def test_bad_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def _user(role: Role) -> Caller:
    return Caller(CallerKind.USER, "u", user_id=1, role=role)


def test_admin_may_do_everything_others_only_their_roles() -> None:
    require_role(_user(Role.ADMIN), frozenset({Role.SUPERVISOR}))
    require_role(_user(Role.SUPERVISOR), frozenset({Role.SUPERVISOR}))
    with pytest.raises(PermissionDenied, match="counter"):
        require_role(_user(Role.COUNTER), frozenset({Role.SUPERVISOR}))


def test_devices_and_users_are_kept_apart() -> None:
    device = Caller(CallerKind.DEVICE, "HH-1", device_id=1, location_id=1)
    with pytest.raises(PermissionDenied):
        require_role(device, frozenset({Role.COUNTER}))
    with pytest.raises(PermissionDenied):
        require_device(_user(Role.ADMIN))
    require_device(device)


def test_enrollment_codes_are_typeable_and_hashed() -> None:
    code = new_enrollment_code()
    assert len(code) == 10
    assert not set(code) & set("01OIL")
    assert normalize_enrollment_code(code[:4].lower() + " - " + code[4:]) == code
    assert secret_hash(code) != code
    assert len(secret_hash(code)) == 64
    assert len({new_enrollment_code() for _ in range(200)}) == 200


def test_expiry() -> None:
    now = datetime.now(UTC)
    check_not_expired(now + timedelta(seconds=1), now, "token")
    with pytest.raises(NotAuthenticated, match="expired"):
        check_not_expired(now, now, "token")
