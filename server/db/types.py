"""Column types that keep money and quantities exact on every backend.

SQLite has no decimal type (SQLAlchemy's Numeric goes through float there), so decimals
are stored as scaled 64-bit integers on both databases: a quantity in 1/10,000, a cost in
1/1,000,000, a value in 1/100. SUM() and comparisons stay exact in SQL, on SQLite and
PostgreSQL alike, and Python sees Decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from server.domain.money import COST_PLACES, QUANTITY_PLACES, VALUE_PLACES


def _to_scaled(places: int) -> Callable[[Decimal | None], int | None]:
    def process(value: Decimal | None) -> int | None:
        if value is None:
            return None
        scaled = value.scaleb(places)
        as_int = int(scaled)
        if as_int != scaled:
            raise ValueError(f"{value} has more than {places} decimal places")
        return as_int

    return process


def _from_scaled(places: int) -> Callable[[Any], Decimal | None]:
    exponent = -places

    def process(value: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(exponent)

    return process


class ScaledDecimal(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return _to_scaled(self.places)(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return _from_scaled(self.places)(value)

    # The processors SQLAlchemy runs on every value. TypeDecorator's would wrap the two
    # methods above in a second call, and each `self.places` would go through
    # TypeDecorator's `__getattr__` hook (about 750 instructions a value). Where the
    # integer type below has no processor of its own (SQLite, asyncpg) the conversion
    # is one closure; else TypeDecorator's wrapping, which also runs the inner one.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if self.impl_instance.bind_processor(dialect) is not None:
            return super().bind_processor(dialect)
        return _to_scaled(self.places)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if self.impl_instance.result_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)
        return _from_scaled(self.places)


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
