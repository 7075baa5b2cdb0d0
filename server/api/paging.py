"""Keyset paging: `?limit=` and an opaque `cursor` that the previous page handed out."""

from __future__ import annotations

from server.domain.errors import ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def decode_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19:
        raise ValidationFailed(f"cursor {cursor!r} is not one this server handed out")
    return int(cursor)


def next_cursor(last_id: int | None, returned: int, limit: int) -> str | None:
    return str(last_id) if last_id is not None and returned == limit else None
