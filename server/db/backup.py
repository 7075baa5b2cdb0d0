"""`stockcount backup FILE`: a consistent copy of a SQLite database while the server runs.

SQLite's online backup API (sqlite3.Connection.backup) copies the database in one step
inside one read transaction: in WAL mode writers go on, and the copy is the database as of
that transaction's start. The copy is written beside FILE and renamed into place only when
complete and checked, so FILE is never half a database. PostgreSQL is backed up with its
own tools (pg_dump; README.md, Backups).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from server.domain.errors import ValidationFailed


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the database at `database_url` to `target` (which must not exist); the number
    of pages copied."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise ValidationFailed(
            "stockcount backup copies a SQLite database; back PostgreSQL up with pg_dump "
            "(README.md, Backups)"
        )
    source = Path(url.database or "")
    if not url.database or not source.is_file():
        raise ValidationFailed(f"there is no SQLite database at {source}")
    if target.exists():
        raise ValidationFailed(f"{target} exists: name a new file (a backup never overwrites)")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: everything in one step, one consistent snapshot
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise ValidationFailed(f"the copy failed its check ({check}): nothing written")
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
            # the copy takes the source's journal mode; a backup file is one file
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(partial, target)
    return int(pages)
