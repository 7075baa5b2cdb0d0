"""ScaledDecimal's own processors (one closure a value where the integer type has none)
convert exactly as its process_bind_param and process_result_value, on both drivers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import Dialect

from server.db.types import ScaledDecimal

DIALECTS = [aiosqlite_dialect(), asyncpg_dialect()]
VALUES = [Decimal("0"), Decimal("1.2345"), Decimal("-0.0001"), Decimal("123456789.5"), None]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.driver)
def test_the_processors_convert_as_the_methods(dialect: Dialect) -> None:
    scaled = ScaledDecimal(4)
    bind = scaled.bind_processor(dialect)
    result = scaled.result_processor(dialect, None)
    assert bind is not None and result is not None
    for value in VALUES:
        stored = bind(value)
        assert stored == scaled.process_bind_param(value, dialect)
        assert stored is None or type(stored) is int
        assert result(stored) == value
        assert result(stored) == scaled.process_result_value(stored, dialect)
    assert bind(Decimal("1.2345")) == 12345
    assert result(12345) == Decimal("1.2345")


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.driver)
def test_more_places_than_the_column_keeps_are_refused(dialect: Dialect) -> None:
    bind = ScaledDecimal(2).bind_processor(dialect)
    assert bind is not None
    with pytest.raises(ValueError, match=r"0\.125 has more than 2 decimal places"):
        bind(Decimal("0.125"))
