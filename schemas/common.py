"""Types used by every message: decimals, paging, problem details."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

# Encoded as a string, in JSON and MessagePack alike, and only a string is accepted: msgspec
# alone would decode a number into a Decimal too (a MessagePack float through binary), so
# the server refuses a number where these types stand (server/api/content.py, on the API
# and the sync push; the protocol said decimal strings from version 1 on).
QuantityText = Annotated[
    Decimal, msgspec.Meta(description="A quantity, exact, as a decimal string: '14', '2.5'.")
]
CostText = Annotated[
    Decimal, msgspec.Meta(description="A unit cost, exact, as a decimal string: '55.232'.")
]
ValueText = Annotated[
    Decimal, msgspec.Meta(description="A money value, exact, as a decimal string: '773.25'.")
]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$"
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=CODE_PATTERN,
        description="An identifying code: letters, digits and . _ / -",
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class FieldProblem(msgspec.Struct, kw_only=True):
    location: str
    message: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, as every error answer carries them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = ""
    code: str = ""
    errors: list[FieldProblem] = msgspec.field(default_factory=list)
