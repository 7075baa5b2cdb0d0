"""The one place a request's body and query are read before a handler sees them.

- A body in a media type the route does not speak is refused (415) before parsing:
  Litestar would parse a JSON body whatever Content-Type says. A route that takes a
  decoded body (`data`) speaks JSON only; MessagePack is for the sync routes, which read
  their own bodies, and CSV for the imports.
- A JSON body is decoded once, strictly, into the route's own type (Litestar's own
  conversion is lax: it takes 1 for true and "1" for 1): nesting deeper than the decoder
  goes is a 400, not a RecursionError; so is 0 or 1 where the schema says a boolean.
- No text may hold NUL (PostgreSQL cannot store it, SQLite would): refused, in the body
  and in the query, on both databases alike.
- A decimal must be finite and fit the columns (at most 14 integer digits, 28 digits in
  all): "1e400" is refused here, not left to fail in the arithmetic.
The decoded body is left where Litestar looks for it, so it is not decoded twice.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
from litestar.exceptions import HTTPException, ValidationException

from server.api.state import AnyRequest
from server.domain.money import MAX_INTEGER_DIGITS

JSON = "application/json"
MSGPACK_TYPES = frozenset(
    {"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}
)
CSV_TYPES = frozenset({"text/csv", "application/csv"})
ACCEPTED_BODY_TYPES = frozenset({JSON}) | MSGPACK_TYPES | CSV_TYPES
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
MAX_DIGITS = 28  # the decimal context's precision: more digits cannot be computed exactly
_AT = re.compile(r"^(?P<message>.*) - at `\$\.?(?P<where>[^`]*)`$", re.DOTALL)


def _has_body(request: AnyRequest) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


def _body_type(request: AnyRequest) -> Any:
    """The type of the handler's decoded body (`data`), or None when it reads its own."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    return None if data is None else data.annotation


def _refuse_media_type(media_type: str) -> HTTPException:
    shown = f"the body is {media_type}" if media_type else "the body has no Content-Type"
    return HTTPException(
        status_code=415,
        detail=f"{shown}: send Content-Type: application/json "
        "(or application/msgpack; text/csv for imports)",
    )


def _invalid(where: str, message: str) -> ValidationException:
    return ValidationException(
        detail=message, extra=[{"key": where or "body", "message": message, "source": "body"}]
    )


def _check_value(value: Any, where: str) -> None:
    """NUL in text, a decimal that is not finite or too large: anywhere in the value."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _invalid(where, "text may not hold the NUL character")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _invalid(where, f"must be a finite number, not {value}")
        if value and (
            value.adjusted() >= MAX_INTEGER_DIGITS or len(value.as_tuple().digits) > MAX_DIGITS
        ):
            raise _invalid(
                where,
                f"{value} is too large (at most {MAX_INTEGER_DIGITS} integer digits, "
                f"{MAX_DIGITS} digits in all)",
            )
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _check_value(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, where)
            _check_value(item, f"{where}.{key}" if where else str(key))


def check_query(request: AnyRequest) -> None:
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise _invalid(name, "a query parameter may not hold the NUL character")


async def _decode_strictly(request: AnyRequest, kind: Any) -> None:
    body = await request.body()
    if not body:
        return
    try:
        data = msgspec.json.decode(body, type=kind, strict=True)
    except RecursionError:
        raise HTTPException(
            status_code=400,
            detail="the request body is not valid JSON: it is nested too deeply",
        ) from None
    except msgspec.ValidationError as exc:
        found = _AT.match(str(exc))
        if found is None:
            raise _invalid("", str(exc)) from None
        raise _invalid(found["where"], found["message"]) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        return  # Litestar decodes it again and names what is wrong, as it always did
    _check_value(data, "")
    # Where Request.json() looks first: the handler gets this value, not a second decode.
    request._connection_state.json = data


async def read_request(request: AnyRequest) -> None:
    """Litestar's before_request hook: every check above, before the handler runs."""
    check_query(request)
    if request.method not in _WITH_BODY or not _has_body(request):
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_BODY_TYPES:
        raise _refuse_media_type(media_type)
    kind = _body_type(request)
    if kind is None:
        return
    if media_type != JSON:
        raise _refuse_media_type(media_type)
    await _decode_strictly(request, kind)
