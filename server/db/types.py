"""Column types that keep money and quantities exact on every backend.

SQLite has no decimal type (SQLAlchemy's Numeric goes through float there), so decimals
are stored as scaled 64-bit integers on both databases: a quantity in 1/10,000, a cost in
1/1,000,000, a value in 1/100. SUM() and comparisons stay exact in SQL, on SQLite and
PostgreSQL alike, and Python sees Decimal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from server.domain.money import COST_PLACES, QUANTITY_PLACES, VALUE_PLACES


class ScaledDecimal(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = value.scaleb(self.places)
        as_int = int(scaled)
        if as_int != scaled:
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return as_int

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)


def Quantity() -> ScaledDecimal:
    return ScaledDecimal(QUANTITY_PLACES)


def Cost() -> ScaledDecimal:
    return ScaledDecimal(COST_PLACES)


def Value() -> ScaledDecimal:
    return ScaledDecimal(VALUE_PLACES)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
