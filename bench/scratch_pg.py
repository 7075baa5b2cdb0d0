"""A scratch PostgreSQL database for one benchmark run: created and migrated, then dropped.

dsn = create_scratch(admin_url, "bench_x")   # postgresql://.../bench_x_1a2b3c4d
try: ... sqlalchemy_url(dsn) ...
finally: drop_scratch(admin_url, dsn)
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from server.db import migrate


async def _execute(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def create_scratch(admin_url: str, prefix: str) -> str:
    """A new, migrated database beside `admin_url`'s; its plain DSN. Raises OSError or
    asyncpg.PostgresError when the server cannot be reached or refuses. A database made
    but not migrated is dropped again."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    dsn = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(sqlalchemy_url(dsn))
    except BaseException:
        drop_scratch(admin_url, dsn)
        raise
    return dsn


def drop_scratch(admin_url: str, dsn: str) -> None:
    name = dsn.rsplit("/", 1)[1]
    asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
