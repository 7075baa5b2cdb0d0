"""Alembic environment: runs migrations on the async engine of either backend."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from server.db.engine import make_engine
from server.tables import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: run `stockcount migrate`")

existing = config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_run_async())
