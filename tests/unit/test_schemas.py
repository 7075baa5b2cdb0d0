"""The wire schemas keep the evolution rules of schemas/__init__.py.

- An old decoder reads a new message and a new decoder reads an old one (JSON, MessagePack).
- Every wire struct, walked mechanically: objects not arrays, unknown fields ignored, no
  floats, money and quantities as Decimal, defaulted fields last.
- `stockcount schemas export DIR`, run as a real process, writes JSON Schema that a sample
  message validates against.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

import schemas
from schemas.export import wire_structs
from schemas.masterdata import Item

STOCKCOUNT = Path(sys.executable).parent / "stockcount"


# --- an old decoder reads a new message, and the reverse --------------------------------


class ItemV2(Item, kw_only=True):
    """Item as a later protocol might carry it: one new field, with a default, at the end."""

    shelf_life_days: int = 0


Codec = tuple[Callable[[Any], bytes], Callable[[bytes, type[Any]], Any]]
CODECS: dict[str, Codec] = {
    "json": (msgspec.json.encode, lambda raw, t: msgspec.json.decode(raw, type=t)),
    "msgpack": (msgspec.msgpack.encode, lambda raw, t: msgspec.msgpack.decode(raw, type=t)),
}
COMMON = {
    "code": "123106",
    "name": "Pump, centrifugal",
    "tracking": "none",
    "last_cost": Decimal("55.232"),
    "inventory_group": "PUMPS",
    "barcodes": ["04012345678901"],
}


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_old_decoder_reads_a_new_message(codec: str) -> None:
    encode, decode = CODECS[codec]
    newer = ItemV2(**COMMON, shelf_life_days=365)
    raw = encode(newer)
    assert b"shelf_life_days" in raw  # the new field really is on the wire

    older = decode(raw, Item)

    assert type(older) is Item
    defaults = {"auto_serialized": False, "uom": "EA", "count_mode": "unit"}
    assert msgspec.structs.asdict(older) == COMMON | defaults
    assert older.last_cost == Decimal("55.232")


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_new_decoder_reads_an_old_message(codec: str) -> None:
    encode, decode = CODECS[codec]
    raw = encode(Item(**COMMON))
    assert b"shelf_life_days" not in raw

    newer = decode(raw, ItemV2)

    assert newer.shelf_life_days == 0
    assert newer.code == "123106" and newer.last_cost == Decimal("55.232")
    assert newer.barcodes == ["04012345678901"]


def test_a_required_field_added_later_would_break_old_senders() -> None:
    """Why rule 1 exists: the check above fails when the new field has no default."""

    class ItemBroken(Item, kw_only=True):
        shelf_life_days: int

    with pytest.raises(msgspec.ValidationError, match="missing required field `shelf_life_days`"):
        msgspec.json.decode(msgspec.json.encode(Item(**COMMON)), type=ItemBroken)


# --- every wire struct, walked ---------------------------------------------------------

# Fields that are floats on purpose. Each needs a reason; a stale entry fails the test.
FLOAT_ALLOWED = {
    ("ImportResult", "seconds"): "elapsed wall-clock time for people, not money or stock",
}
# Structs that refuse unknown fields on purpose. Each needs a reason: only the server
# decodes them, and a field it does not know must be refused, not ignored.
FORBID_UNKNOWN_ALLOWED = {
    "JournalSettingsChange": "a PATCH body: a misspelt setting is refused, not silently ignored",
}
MONEY_OR_QUANTITY = re.compile(r"(^|_)(cost|costs|quantity|qty|value|price|amount|total)($|_)")
# Identifiers that merely name money words (the seed's cost code, cost category): not money.
IDENTIFIER = re.compile(r"_(code|category|id|type|kind)$")


def _walk(t: mi.Type) -> Iterator[mi.Type]:
    """Every type nested in `t`, struct fields included (each struct visited once)."""
    seen: set[type] = set()
    stack = [t]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, mi.StructType):
            if current.cls not in seen:
                seen.add(current.cls)
                stack.extend(f.type for f in current.fields)
        else:
            stack.extend(_children(current))


def _struct_types() -> list[mi.StructType]:
    found: dict[type, mi.StructType] = {}
    for struct in wire_structs():
        for t in _walk(mi.type_info(struct)):
            if isinstance(t, mi.StructType):
                found[t.cls] = t
    return list(found.values())


def _strip(t: mi.Type) -> mi.Type:
    while isinstance(t, mi.Metadata):
        t = t.type
    return t


def _children(t: mi.Type) -> list[mi.Type]:
    if isinstance(t, mi.Metadata):
        return [t.type]
    if isinstance(t, mi.UnionType):
        return list(t.types)
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return [t.item_type]
    if isinstance(t, mi.TupleType):
        return list(t.item_types)
    if isinstance(t, mi.DictType):
        return [t.key_type, t.value_type]
    return []


def _has_float(t: mi.Type) -> bool:
    """A float anywhere in this field's type; nested structs are checked on their own."""
    if isinstance(t, mi.FloatType):
        return True
    return any(_has_float(child) for child in _children(t))


def test_the_walk_covers_every_module_and_nested_struct() -> None:
    names = {t.cls.__name__ for t in _struct_types()}
    # One struct from each schemas module, and one only reachable as a nested field type.
    assert {"Item", "Device", "Problem", "FieldProblem", "ImportResult"} <= names
    assert len(names) >= len(wire_structs())


@pytest.mark.parametrize("struct", _struct_types(), ids=lambda t: t.cls.__name__)
def test_wire_struct_keeps_the_evolution_rules(struct: mi.StructType) -> None:
    name = struct.cls.__name__
    assert not struct.array_like, f"{name}: array_like messages cannot grow a field"
    if name not in FORBID_UNKNOWN_ALLOWED:
        assert not struct.forbid_unknown_fields, f"{name}: an old decoder must ignore new fields"

    defaulted_from = next((i for i, f in enumerate(struct.fields) if not f.required), None)
    if defaulted_from is not None:
        late_required = [f.name for f in struct.fields[defaulted_from:] if f.required]
        assert late_required == [], f"{name}: required fields after a defaulted one"

    for field in struct.fields:
        key = (name, field.name)
        if key in FLOAT_ALLOWED:
            continue
        assert not _has_float(field.type), f"{name}.{field.name} is a float: use Decimal"
        if MONEY_OR_QUANTITY.search(field.name) and not IDENTIFIER.search(field.name):
            inner = _strip(field.type)
            if isinstance(inner, mi.UnionType):
                inner = next(_strip(t) for t in inner.types if not isinstance(t, mi.NoneType))
            if isinstance(inner, mi.BoolType):
                continue  # a flag that names a quantity (the seed's setting), not one
            assert isinstance(inner, mi.DecimalType), (
                f"{name}.{field.name} holds money or a quantity: type it as Decimal"
            )


def test_float_allow_list_is_not_stale() -> None:
    by_name = {t.cls.__name__: t for t in _struct_types()}
    for (struct, field), reason in FLOAT_ALLOWED.items():
        assert reason
        fields = {f.name: f for f in by_name[struct].fields}
        assert _has_float(fields[field].type), f"{struct}.{field} is no float now: drop the entry"
        assert not MONEY_OR_QUANTITY.search(field)


def test_decimals_are_strings_in_json_and_msgpack() -> None:
    item = Item(code="123106", name="Pump", tracking="none", last_cost=Decimal("55.232"))
    as_json = json.loads(msgspec.json.encode(item))
    assert as_json["last_cost"] == "55.232"
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(item))["last_cost"] == "55.232"
    # msgspec itself reads a JSON number exactly from its text, never through a binary float
    # (the server still refuses numbers for decimals at its edge: tests/integration).
    exact = msgspec.json.decode(
        b'{"code":"X","name":"n","tracking":"none","last_cost":0.1}', type=Item
    )
    assert exact.last_cost == Decimal("0.1")


# --- `stockcount schemas export DIR` ----------------------------------------------------
# jsonschema is not in .venv (nor a dependency), so this validates with a small checker of
# the JSON Schema keywords msgspec emits. An unknown keyword fails the test rather than
# passing silently, so the checker cannot fall behind msgspec unnoticed.

_IGNORED = {"title", "description", "default", "format", "$schema", "$id", "$defs", "examples"}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(
    value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    errors: list[str] = []
    for keyword, rule in schema.items():
        if keyword in _IGNORED or keyword in {"required", "minLength", "maxLength", "pattern"}:
            continue
        if keyword == "$ref":
            assert rule.startswith("#/$defs/"), rule
            errors += schema_errors(value, root["$defs"][rule.removeprefix("#/$defs/")], root, at)
        elif keyword == "type":
            allowed = rule if isinstance(rule, list) else [rule]
            if not any(_TYPES[t](value) for t in allowed):
                errors.append(f"{at}: {value!r} is not of type {rule}")
                return errors
        elif keyword == "enum":
            if value not in rule:
                errors.append(f"{at}: {value!r} is not one of {rule}")
        elif keyword == "anyOf":
            if all(schema_errors(value, option, root, at) for option in rule):
                errors.append(f"{at}: {value!r} matches none of anyOf")
        elif keyword == "properties":
            if isinstance(value, dict):
                for key, sub in rule.items():
                    if key in value:
                        errors += schema_errors(value[key], sub, root, f"{at}.{key}")
        elif keyword == "additionalProperties":
            if rule is False and isinstance(value, dict):
                extra = set(value) - set(schema.get("properties", {}))
                if extra:
                    errors.append(f"{at}: unexpected {sorted(extra)}")
        elif keyword == "items":
            if isinstance(value, list):
                for i, element in enumerate(value):
                    errors += schema_errors(element, rule, root, f"{at}[{i}]")
        elif keyword in {"minimum", "maximum"}:
            if isinstance(value, int | float) and not isinstance(value, bool):
                ok = value >= rule if keyword == "minimum" else value <= rule
                if not ok:
                    errors.append(f"{at}: {value} breaks {keyword} {rule}")
        else:
            raise AssertionError(
                f"the test's checker does not know JSON Schema keyword {keyword!r}"
            )
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", []) if k not in value]
        errors += [f"{at}: missing required {k!r}" for k in missing]
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{at}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
    return errors


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("exported") / "json-schema"
    done = subprocess.run(
        [str(STOCKCOUNT), "schemas", "export", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(wire_structs()) + 1} JSON Schema files" in done.stdout
    return directory


def test_export_writes_one_valid_schema_per_struct_and_a_bundle(exported: Path) -> None:
    files = sorted(p.name for p in exported.iterdir())
    expected = sorted([f"{s.__name__}.schema.json" for s in wire_structs()])
    assert files == sorted([*expected, "stockcount.schema.json"])
    for path in exported.iterdir():
        document = json.loads(path.read_text())
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["$id"].startswith(f"stockcount/v{schemas.PROTOCOL_VERSION}")
        # Every $ref points inside the same file: each file stands alone.
        for ref in re.findall(r'"\$ref": "([^"]+)"', path.read_text()):
            assert ref.removeprefix("#/$defs/") in document["$defs"], (path.name, ref)
    bundle = json.loads((exported / "stockcount.schema.json").read_text())
    assert bundle["x-protocol-version"] == schemas.PROTOCOL_VERSION
    assert {s.__name__ for s in wire_structs()} <= set(bundle["$defs"])


def test_a_sample_item_validates_against_item_schema(exported: Path) -> None:
    schema = json.loads((exported / "Item.schema.json").read_text())
    item = Item(
        code="123106",
        name="Pump",
        tracking="serial",
        auto_serialized=True,
        last_cost=Decimal("55.232"),
        barcodes=["04012345678901"],
    )
    message = json.loads(msgspec.json.encode(item))
    assert message["last_cost"] == "55.232"
    assert schema["$defs"]["Item"]["properties"]["last_cost"]["type"] == "string"
    assert schema_errors(message, schema, schema) == []

    # The schema (and the checker) reject what a device must not send.
    assert schema_errors({**message, "last_cost": 55.232}, schema, schema)
    assert schema_errors({**message, "tracking": "batch"}, schema, schema)
    assert schema_errors({**message, "code": "no spaces"}, schema, schema)
    missing = {k: v for k, v in message.items() if k != "tracking"}
    assert schema_errors(missing, schema, schema) == ["$: missing required 'tracking'"]


def test_every_struct_round_trips_an_instance_its_schema_accepts(exported: Path) -> None:
    """msgspec decodes what it encodes, and the exported schema accepts that same JSON."""
    item = Item(code="A-1", name="Anchor", tracking="lot", last_cost=Decimal("0.000001"))
    samples: list[msgspec.Struct] = [
        item,
        schemas.masterdata.ItemPage(items=[item], next_cursor="7"),
        schemas.common.Problem(type="/problems/x", title="T", status=400, detail="d"),
        schemas.masterdata.OpeningStock(
            item="A-1",
            location="MAIN",
            bin="A-01-01",
            quantity=Decimal("14"),
            unit_cost=Decimal("55.232"),
            lot="L1",
        ),
    ]
    for sample in samples:
        raw = msgspec.json.encode(sample)
        assert msgspec.json.decode(raw, type=type(sample)) == sample
        schema = json.loads((exported / f"{type(sample).__name__}.schema.json").read_text())
        assert schema_errors(json.loads(raw), schema, schema) == [], type(sample).__name__


def test_event_codes_are_checked_once_per_value_and_keep_their_published_pattern() -> None:
    """Event bodies' count and item codes are not pattern-checked by the decoder (it cost
    most of a push's decoding) but by `event_code_problem`, once per distinct value; the
    published schema still states the pattern."""
    from datetime import UTC, datetime

    from schemas.common import CODE_PATTERN
    from schemas.sync import (
        BinOpened,
        Event,
        PushRequest,
        QuantityKeyed,
        SerialScanned,
        event_code_problem,
    )

    defs = msgspec.json.schema(PushRequest)["$defs"]
    for struct in ("SerialScanned", "QuantityKeyed", "BinOpened", "ScanUndone", "BinClosed"):
        assert defs[struct]["properties"]["count"]["pattern"] == CODE_PATTERN
    assert defs["SerialScanned"]["properties"]["item"]["pattern"] == CODE_PATTERN
    now = datetime(2026, 11, 30, tzinfo=UTC)

    def event(seq: int, body: Any) -> Event:
        return Event(seq=seq, device_time=now, body=body)

    scan = SerialScanned(count="SC1", bin="A-01", bin_seq=1, item="SER", serial="S1", raw="S1")
    fine = [event(1, BinOpened(count="SC1", bin="A-01")), event(2, scan)]
    assert event_code_problem(fine) is None
    keyed = QuantityKeyed(count="SC1", bin="A-01", bin_seq=1, item="BOLT#2", quantity=Decimal(1))
    problem = event_code_problem([*fine, event(3, keyed)])
    assert problem == (
        f"Expected `str` matching regex {CODE_PATTERN!r} - at `$.events[2].body.item`"
    )
    # The same words as the decoder's own pattern check, for a Code it still checks.
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(b'{"code": "BOLT#2"}', type=dict[str, schemas.common.Code])
    assert f"Expected `str` matching regex {CODE_PATTERN!r}" in str(raised.value)


def test_forbid_unknown_allow_list_is_not_stale() -> None:
    by_name = {t.cls.__name__: t for t in _struct_types()}
    for struct, reason in FORBID_UNKNOWN_ALLOWED.items():
        assert reason and by_name[struct].forbid_unknown_fields, f"{struct}: drop the entry"
