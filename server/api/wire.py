"""What every feature's HTTP adapter shares: the guards of reading and writing master
data, decimals without their column's trailing zeros, CSV answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from litestar import Response

from server.api.security import any_user, reads_books, roles
from server.api.state import AnyRequest
from server.domain.errors import ValidationFailed
from server.domain.masterdata import Role

READ = [any_user()]
WRITE = [roles(Role.SUPERVISOR)]
READ_BOOKS = [reads_books()]  # the journal's transactions, GL and Inventory History


def plain(value: Decimal) -> Decimal:
    """Without the column's trailing zeros: 1.500000 -> 1.5, 14.0000 -> 14 (still exact)."""
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


CSV = "text/csv"
FORMATS = ("csv", "json")
NOTICE_HEADER = "Stockcount-Notice"


def wants_csv(request: AnyRequest, format: str | None) -> bool:
    """`?format=csv`, or an Accept header that asks for CSV before JSON."""
    if format is not None:
        if format not in FORMATS:
            raise ValidationFailed(f"format must be csv or json, not {format!r}")
        return format == "csv"
    accept = request.headers.get("accept", "")
    return CSV in accept and "json" not in accept.split(CSV)[0]


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], name: str, notice: str | None = None
) -> Response[bytes]:
    """The rows as CSV; a `notice` travels as the Stockcount-Notice header (a row of
    prose would break the header-first shape that spreadsheet imports expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        content=buffer.getvalue().encode(),
        media_type=f"{CSV}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            **({NOTICE_HEADER: notice} if notice else {}),
        },
    )
