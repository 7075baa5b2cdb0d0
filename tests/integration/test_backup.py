"""`stockcount backup FILE`: SQLite's online backup while a writer holds a transaction; the
copy is a working stockcount database as of the backup; PostgreSQL is refused with the
pg_dump pointer; an existing FILE is never overwritten."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.cli import main
from tests.helpers import PASSWORD, add_users, scalar

HOUR_LATER = datetime(2030, 1, 1, tzinfo=UTC)


async def test_backup_copies_a_consistent_sqlite_database_while_it_is_written(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await add_users(database_url)
    monkeypatch.setenv("STOCKCOUNT_DATABASE_URL", database_url)
    target = tmp_path / "backups" / "stockcount-1.sqlite3"
    target.parent.mkdir()
    if not database_url.startswith("sqlite"):
        assert main(["backup", str(target)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "pg_dump" in err
        assert not target.exists()
        return

    live = Path(make_url(database_url).database or "")
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO app_user (username, password_hash, role, active, created_at) "
        "VALUES ('uncommitted', 'x', 'counter', 1, '2026-12-07 00:00:00')"
    )
    assert main(["backup", str(target)]) == 0  # while the writer holds its transaction
    assert f"to {target}" in capsys.readouterr().out
    writer.execute("COMMIT")
    writer.close()
    assert not list(target.parent.glob(".*partial"))

    copy_url = f"sqlite+aiosqlite:///{target}"
    assert await scalar(copy_url, "SELECT count(*) FROM app_user") == 3
    assert await scalar(database_url, "SELECT count(*) FROM app_user") == 4
    # the copy is a stockcount database at the current migration: the server opens it
    async with open_runtime(copy_url) as runtime:
        issued = await auth.login(runtime.uow(), "super", PASSWORD, HOUR_LATER, timedelta(hours=1))
        assert issued.user.username == "super"

    # never overwritten; a restore is copying the file back while the server is stopped
    assert main(["backup", str(target)]) == 1
    assert "exists" in capsys.readouterr().err
    shutil.copyfile(target, live)
    assert await scalar(database_url, "SELECT count(*) FROM app_user") == 3
