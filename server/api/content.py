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
- A decimal travels as a string ("2.5"), as the schema and the protocol (every version)
  say: msgspec would read a JSON or MessagePack number into a Decimal, so a number where
  the type says Decimal is refused (422, naming the field). A MessagePack float is binary.
The decoded body is left where Litestar looks for it, so it is not decoded twice.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
import msgspec.inspect as mi
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


def _check_decimal(value: Decimal, where: str) -> None:
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


def _check_decimals(value: Any, where: str) -> None:
    """Every Decimal in the value finite and in range; only fields that may hold one are
    visited (a push of 500 events has 500 bodies, most with no decimal at all)."""
    if isinstance(value, Decimal):
        _check_decimal(value, where)
    elif isinstance(value, msgspec.Struct):
        for name, wire_name in _decimal_fields(type(value)):
            _check_decimals(getattr(value, name), f"{where}.{wire_name}" if where else wire_name)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check_decimals(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_decimals(item, f"{where}.{key}" if where else str(key))


def _check_text(value: Any, where: str) -> None:
    """No NUL in any text of the value, keys of mappings included."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _invalid(where, "text may not hold the NUL character")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _check_text(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check_text(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"{where}.{key}" if where else str(key))


DECIMAL_AS_NUMBER = 'a decimal is sent as a string ("14", "2.5"), not as a number'
_CONTAINERS = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)
_HOLDS_DECIMAL: dict[Any, bool] = {}
_DECIMAL_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _type_holds_decimal(t: mi.Type, seen: set[type]) -> bool:
    if isinstance(t, mi.DecimalType):
        return True
    if isinstance(t, mi.Metadata):
        return _type_holds_decimal(t.type, seen)
    if isinstance(t, mi.UnionType):
        return any(_type_holds_decimal(u, seen) for u in t.types)
    if isinstance(t, _CONTAINERS):
        return _type_holds_decimal(t.item_type, seen)
    if isinstance(t, mi.TupleType):
        return any(_type_holds_decimal(u, seen) for u in t.item_types)
    if isinstance(t, mi.DictType):
        return _type_holds_decimal(t.value_type, seen)
    if isinstance(t, mi.StructType):
        if t.cls in seen:
            return False
        seen.add(t.cls)
        return any(_type_holds_decimal(f.type, seen) for f in t.fields)
    return False


def holds_decimal(kind: Any) -> bool:
    """Whether a value of this type may hold a Decimal anywhere (cached per type)."""
    try:
        return _HOLDS_DECIMAL[kind]
    except KeyError:
        found = _HOLDS_DECIMAL[kind] = _type_holds_decimal(mi.type_info(kind), set())
        return found
    except TypeError:  # an unhashable annotation: work it out each time
        return _type_holds_decimal(mi.type_info(kind), set())


def _decimal_fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """(attribute, name on the wire) of the fields of a struct that may hold a Decimal."""
    try:
        return _DECIMAL_FIELDS[cls]
    except KeyError:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        found = _DECIMAL_FIELDS[cls] = tuple(
            (f.name, f.encode_name) for f in info.fields if _type_holds_decimal(f.type, set())
        )
        return found


def _decimal_names(kind: Any) -> tuple[bytes, ...]:
    """The wire names of every field, anywhere in the type, that holds a Decimal itself
    (a PushRequest: `quantity`, not `events` or `body`)."""
    names: set[str] = set()
    todo, seen = [mi.type_info(kind)], set()
    while todo:
        t = todo.pop()
        if isinstance(t, mi.Metadata):
            todo.append(t.type)
        elif isinstance(t, mi.UnionType):
            todo.extend(t.types)
        elif isinstance(t, _CONTAINERS):
            todo.append(t.item_type)
        elif isinstance(t, mi.TupleType):
            todo.extend(t.item_types)
        elif isinstance(t, mi.DictType):
            todo.append(t.value_type)
        elif isinstance(t, mi.StructType) and t.cls not in seen:
            seen.add(t.cls)
            for f in t.fields:
                if _outside_structs(f.type):  # the field holds the decimal itself
                    names.add(f.encode_name)
                if _type_holds_decimal(f.type, set()):
                    todo.append(f.type)
    return tuple(sorted(n.encode() for n in names))


_NAMES: dict[Any, tuple[bytes, ...] | None] = {}
_AS_NUMBER: dict[tuple[bytes, ...], re.Pattern[bytes]] = {}


def _outside_structs(t: mi.Type) -> bool:
    """A Decimal reachable from the root with no struct field on the way (no name to find)."""
    if isinstance(t, mi.DecimalType):
        return True
    if isinstance(t, mi.Metadata):
        return _outside_structs(t.type)
    if isinstance(t, mi.UnionType):
        return any(_outside_structs(u) for u in t.types)
    if isinstance(t, mi.TupleType):
        return any(_outside_structs(u) for u in t.item_types)
    if isinstance(t, _CONTAINERS):
        return _outside_structs(t.item_type)
    if isinstance(t, mi.DictType):
        return _type_holds_decimal(t.value_type, set())
    return False


def _names_of(kind: Any) -> tuple[bytes, ...] | None:
    """The decimal fields' wire names, or None when a decimal may stand where no name is."""
    try:
        return _NAMES[kind]
    except KeyError:
        names = _NAMES[kind] = (
            None if _outside_structs(mi.type_info(kind)) else _decimal_names(kind)
        )
        return names
    except TypeError:
        return None


def _may_hold_a_decimal(names: tuple[bytes, ...] | None, body: bytes, escaped: bool) -> bool:
    """False only when no decimal field is in the body (its name is nowhere in the bytes,
    and a JSON body escapes nothing that could spell it): then nothing needs a look."""
    if names is None or escaped:
        return True
    return any(name in body for name in names)


def _may_send_a_number(
    names: tuple[bytes, ...] | None, body: bytes, msgpack: bool, escaped: bool
) -> bool:
    """A quick look at the bytes: False only when no decimal field can hold a number (the
    walk over a second, untyped decode is then saved on every push with no such field)."""
    if names is None or msgpack or escaped:  # "quantit\u0079" decodes to the name
        return True
    if names not in _AS_NUMBER:  # `"quantity": 4` (a string value starts with '"')
        keys = b"|".join(re.escape(name) for name in names)
        _AS_NUMBER[names] = re.compile(rb'"(?:' + keys + rb')"[ \t\r\n]*:[ \t\r\n]*[-0-9]')
    return _AS_NUMBER[names].search(body) is not None


def check_body(data: Any, body: bytes, kind: Any, *, msgpack: bool = False) -> None:
    """What the decoder cannot check of a body decoded into `kind` (ValidationException):
    no NUL in text, decimals finite and in range, and sent as strings, never as numbers."""
    # \u escapes in JSON (a single-byte look first: most bodies have no backslash at all)
    escaped = not msgpack and b"\\" in body and b"\\u" in body
    if holds_decimal(kind):
        names = _names_of(kind)
        if _may_hold_a_decimal(names, body, escaped):  # a push of serial scans only: not
            _check_decimals(data, "")
            if _may_send_a_number(names, body, msgpack, escaped):
                raw = msgspec.msgpack.decode(body) if msgpack else msgspec.json.decode(body)
                where = decimal_sent_as_number(data, raw)
                if where is not None:
                    raise _invalid(where, DECIMAL_AS_NUMBER)
    # JSON can hold NUL only escaped (msgspec refuses the raw byte); MessagePack as it is.
    if (msgpack and _may_hold_nul(data, body)) or (escaped and b"\\u0000" in body):
        _check_text(data, "")


_TO_JSON = msgspec.json.Encoder()


def _may_hold_nul(data: Any, body: bytes) -> bool:
    """False only when no text of a value decoded from MessagePack can hold NUL, so that
    the walk of `_check_text` (several times the decode) is saved on the bodies without.
    MessagePack carries a NUL in a string as the byte 0x00, but integers and lengths carry
    that byte too: a body without it has none; one with it is encoded again as JSON (a
    small part of the walk's time), where msgspec writes NUL in any string, a mapping's
    keys included, as the escape \\u0000 and never as itself. No escape there: no NUL. A
    text that holds a backslash and "u0000" is a false alarm, which costs only the walk."""
    if b"\x00" not in body:
        return False
    try:
        return b"\\u0000" in _TO_JSON.encode(data)
    except Exception:  # a value JSON cannot write: walk it, as before
        return True


def decimal_sent_as_number(value: Any, raw: Any, where: str = "") -> str | None:
    """Where a Decimal of the decoded `value` came from a number in `raw`, the same body
    decoded with no type (so numbers stay numbers): the field's path, or None."""
    if isinstance(value, Decimal):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return where or "body"
    elif isinstance(value, msgspec.Struct):
        if isinstance(raw, dict):
            for name, wire_name in _decimal_fields(type(value)):
                if wire_name in raw:
                    at = f"{where}.{wire_name}" if where else wire_name
                    found = decimal_sent_as_number(getattr(value, name), raw[wire_name], at)
                    if found is not None:
                        return found
    elif isinstance(value, list | tuple):
        if isinstance(raw, list):
            for index, (item, sent) in enumerate(zip(value, raw, strict=False)):
                found = decimal_sent_as_number(item, sent, f"{where}[{index}]")
                if found is not None:
                    return found
    elif isinstance(value, dict) and isinstance(raw, dict):
        for (key, item), sent in zip(value.items(), raw.values(), strict=False):
            found = decimal_sent_as_number(item, sent, f"{where}.{key}" if where else str(key))
            if found is not None:
                return found
    return None


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
    check_body(data, body, kind)
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
