"""Apply and check migrations (Alembic), programmatically: no alembic.ini to find."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.domain.errors import Conflict

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def check_at_head(engine: AsyncEngine) -> None:
    """Refuse to serve a database the code does not match."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        found = "no stockcount tables" if current is None else f"revision {current}"
        raise Conflict(
            f"the database has {found} but this stockcount expects revision {head}: "
            "run `stockcount migrate` first"
        )


async def database_revision(engine: AsyncEngine) -> str | None:
    """The revision of a database that answers (raises when it does not)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return await current_revision(engine)
