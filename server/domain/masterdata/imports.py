"""The rules of a master data import row, as docs/IMPORT_FORMAT.md states them. Pure.

A row arrives as a mapping of field name to raw value: a string from CSV, or a string,
number, boolean, list or null from JSON (JSON numbers arrive as `int` or exact `Decimal`).
`RowParser.parse(kind, raw)` turns it into a typed row or raises `FieldError` naming the
field. Rules that need other records (references, a serial's item tracking) are the
functions at the bottom; the importer service calls them once it has resolved the codes.

`RowParser` memoises the checks of values that repeat (item codes, bin labels, costs): a
million serials name a few thousand items and bins, and those are checked once each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, TypeVar

from server.domain.counting.reasons import parse_kinds
from server.domain.counting.reconciliation import LineKind
from server.domain.masterdata import (
    BinKind,
    CountMode,
    Item,
    OpeningStock,
    Tracking,
    check_barcode,
    check_code,
    check_name,
    check_on_hand_quantity,
    check_unit_cost,
)
from server.domain.money import ZERO, parse_decimal, weighted_average

# The order kinds are applied in: a row may refer to any kind before its own.
KINDS: Final = (
    "companies",
    "gl_accounts",
    "gl_entities",
    "inventory_groups",
    "locations",
    "bins",
    "items",
    "serials",
    "opening_stock",
    # The Inventory Adjustment Journal's master data (seed 004), described by JOURNAL_SPECS.
    "accounting_periods",
    "price_levels",
    "rate_schedules",
    "price_level_items",
    "cost_categories",
    "jobs",
    "cost_codes",
    "equipment",
    "work_orders",
    "item_journal",
    "location_journal",
    "inventory_group_journal",
    "journal_settings",
    # The reason codes a supervisor approves discrepancies with (server.domain.counting).
    "reason_codes",
)

# Required fields first, then optional ones; the names are those of schemas/masterdata.py.
REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "companies": ("code", "name"),
    "gl_accounts": ("code", "name"),
    "gl_entities": ("code", "name", "company"),
    "inventory_groups": ("code", "name"),
    "locations": ("code", "name", "company"),
    "bins": ("location", "label"),
    "items": ("code", "name", "tracking"),
    "serials": ("item", "serial_number", "location", "bin", "actual_cost"),
    "opening_stock": ("item", "location", "bin", "quantity", "unit_cost"),
    "reason_codes": ("code", "description"),
}
OPTIONAL: Final[dict[str, tuple[str, ...]]] = {
    "companies": ("intercompany",),
    "gl_accounts": (),
    "gl_entities": (),
    "inventory_groups": ("inventory_account", "adjustment_account", "gl_entity"),
    "locations": ("gl_entity",),
    "bins": ("kind", "zone"),
    "items": ("auto_serialized", "uom", "last_cost", "inventory_group", "barcodes", "count_mode"),
    "serials": (),
    "opening_stock": ("lot",),
    "reason_codes": ("kinds", "active"),
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a journal master data kind. `type`: code, name, cost, bool, date,
    choice (one of `choices`), ref (a code of kind `ref`), refs (several, `|`-separated),
    cost_code (a cost code of the row's job)."""

    name: str
    type: str
    required: bool = False
    ref: str = ""
    choices: tuple[str, ...] = ()
    default: object = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    key: tuple[str, ...]  # the fields that make a row unique; () for the one settings row
    fields: tuple[FieldSpec, ...]
    # Attribute kinds set attributes of existing records (and the settings row): a row
    # replaces what is stored. Other kinds create records; an existing key is a conflict.
    replaces: bool = False


def _f(name: str, type_: str, required: bool = False, **more: object) -> FieldSpec:
    return FieldSpec(name, type_, required, **more)  # type: ignore[arg-type]


COST_TYPES: Final = ("material", "equipment", "labor", "subcontract", "other")
BILLING_TYPES: Final = ("time_and_materials", "fixed_fee", "allow_extra_billing")
PERIOD_CODE_MAX = 16
JOURNAL_SPECS: Final[dict[str, KindSpec]] = {
    "accounting_periods": KindSpec(
        ("code",),
        (
            _f("code", "code", True),
            _f("starts", "date", True),
            _f("ends", "date", True),
            _f("closed", "bool"),
        ),
    ),
    "price_levels": KindSpec(("code",), (_f("code", "code", True), _f("name", "name", True))),
    "rate_schedules": KindSpec(
        ("code",),
        (
            _f("code", "code", True),
            _f("name", "name", True),
            _f("material_markup", "cost", default=ZERO),
        ),
    ),
    "price_level_items": KindSpec(
        ("price_level", "item"),
        (
            _f("price_level", "ref", True, ref="price_levels"),
            _f("item", "ref", True, ref="items"),
            _f("unit_price", "cost", True),
        ),
    ),
    "cost_categories": KindSpec(
        ("code",),
        (
            _f("code", "code", True),
            _f("name", "name", True),
            _f("selection_cost_type", "choice", True, choices=COST_TYPES),
            _f("expense_account", "ref", ref="gl_accounts"),
        ),
    ),
    "jobs": KindSpec(
        ("code",),
        (
            _f("code", "code", True),
            _f("name", "name", True),
            _f("company", "ref", True, ref="companies"),
            _f("billing_type", "choice", choices=BILLING_TYPES, default=BILLING_TYPES[0]),
            _f("price_level", "ref", ref="price_levels"),
            _f("rate_schedule", "ref", ref="rate_schedules"),
            _f("date_closed", "date"),
            _f("use_tax_rate", "cost", default=ZERO),
        ),
    ),
    "cost_codes": KindSpec(
        ("job", "code"),
        (
            _f("job", "ref", True, ref="jobs"),
            _f("code", "code", True),
            _f("name", "name", True),
            _f("gl_entity", "ref", ref="gl_entities"),
            _f("allowed_categories", "refs", ref="cost_categories", default=()),
        ),
    ),
    "equipment": KindSpec(("code",), (_f("code", "code", True), _f("name", "name", True))),
    "work_orders": KindSpec(
        ("code",),
        (
            _f("code", "code", True),
            _f("job", "ref", True, ref="jobs"),
            _f("equipment", "ref", ref="equipment"),
            _f("cost_code", "cost_code", ref="cost_codes"),
            _f("cost_category", "ref", ref="cost_categories"),
        ),
    ),
    "item_journal": KindSpec(
        ("item",),
        (
            _f("item", "ref", True, ref="items"),
            _f("use_unit_prices", "bool"),
            _f("burden_rate", "cost", default=ZERO),
        ),
        replaces=True,
    ),
    "location_journal": KindSpec(
        ("location",),
        (_f("location", "ref", True, ref="locations"), _f("burden_rate", "cost", default=ZERO)),
        replaces=True,
    ),
    "inventory_group_journal": KindSpec(
        ("inventory_group",),
        (
            _f("inventory_group", "ref", True, ref="inventory_groups"),
            _f("apply_location_burden", "bool"),
        ),
        replaces=True,
    ),
    "journal_settings": KindSpec(
        (),
        (
            _f("serialized_additions_allowed", "bool"),
            _f("wizard_defaults_quantity_billable", "bool"),
            _f("burden_income_account", "ref", ref="gl_accounts"),
            _f("use_tax_liability_account", "ref", ref="gl_accounts"),
        ),
        replaces=True,
    ),
}
for _kind, _spec in JOURNAL_SPECS.items():
    REQUIRED[_kind] = tuple(f.name for f in _spec.fields if f.required)
    OPTIONAL[_kind] = tuple(f.name for f in _spec.fields if not f.required)
FIELDS: Final = {kind: REQUIRED[kind] + OPTIONAL[kind] for kind in KINDS}

ZONE_MAX = 64
UOM_MAX = 16
LOT_MAX = 128
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})
_LEADING_NUMBER = re.compile(r"^\d+_")
_E = TypeVar("_E", Tracking, BinKind, CountMode)
# Digits, at most 14 before and 6 after the point: within the cost column by its shape.
_PLAIN_COST = re.compile(r"\d{1,14}(?:\.\d{1,6})?\Z")


class FieldError(ValueError):
    """One field of one row is wrong. The importer adds the file and row."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def kind_from_filename(stem: str) -> str | None:
    """`serials`, `opening-stock`, `02_bins` -> the kind; None when the name is no kind."""
    name = _LEADING_NUMBER.sub("", stem.strip().lower()).replace("-", "_")
    return name if name in FIELDS else None


def check_kind(kind: str) -> str:
    normalized = kind.strip().lower().replace("-", "_")
    if normalized not in FIELDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    return normalized


def unknown_fields(kind: str, names: list[str]) -> list[str]:
    allowed = FIELDS[kind]
    return [n for n in names if n not in allowed]


@dataclass(frozen=True, slots=True)
class CompanyRow:
    code: str
    name: str
    intercompany: bool = False


@dataclass(frozen=True, slots=True)
class GlAccountRow:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class GlEntityRow:
    code: str
    name: str
    company: str


@dataclass(frozen=True, slots=True)
class InventoryGroupRow:
    code: str
    name: str
    inventory_account: str | None = None
    adjustment_account: str | None = None
    gl_entity: str | None = None


@dataclass(frozen=True, slots=True)
class LocationRow:
    code: str
    name: str
    company: str
    gl_entity: str | None = None


@dataclass(frozen=True, slots=True)
class BinRow:
    location: str
    label: str
    kind: BinKind = BinKind.STOCK
    zone: str = ""


@dataclass(frozen=True, slots=True)
class ItemRow:
    code: str
    name: str
    tracking: Tracking
    auto_serialized: bool = False
    uom: str = "EA"
    last_cost: Decimal = ZERO
    inventory_group: str | None = None
    barcodes: tuple[str, ...] = ()
    count_mode: CountMode = CountMode.UNIT


@dataclass(frozen=True, slots=True)
class SerialRow:
    item: str
    serial_number: str
    location: str
    bin: str
    actual_cost: Decimal


@dataclass(frozen=True, slots=True)
class JournalRecordRow:
    """A row of a journal master data kind: its field values, typed by JOURNAL_SPECS
    (codes and names str, costs Decimal, dates date, refs str or None, refs a tuple)."""

    kind: str
    values: tuple[tuple[str, object], ...]

    def get(self, name: str) -> object:
        return dict(self.values).get(name)

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class OpeningStockRow:
    item: str
    location: str
    bin: str
    quantity: Decimal
    unit_cost: Decimal
    lot: str = ""


@dataclass(frozen=True, slots=True)
class ReasonCodeRow:
    """A reason code: `kinds` the line kinds it fits (empty: every adjustable kind)."""

    code: str
    description: str
    kinds: frozenset[LineKind] = frozenset()
    active: bool = True


Row = (
    CompanyRow
    | GlAccountRow
    | GlEntityRow
    | InventoryGroupRow
    | LocationRow
    | BinRow
    | ItemRow
    | SerialRow
    | OpeningStockRow
    | JournalRecordRow
    | ReasonCodeRow
)


def _text(raw: object, field: str) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)  # a code written as a JSON number: 123106
    raise FieldError(field, f"must be text, not {raw!r}")


class RowParser:
    """Parses rows of every kind; one instance per import (its caches are per import)."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._costs: dict[object, Decimal] = {}
        self._parsers: dict[str, Callable[[Mapping[str, object]], Row]] = {
            "companies": self._company,
            "gl_accounts": self._gl_account,
            "gl_entities": self._gl_entity,
            "inventory_groups": self._inventory_group,
            "locations": self._location,
            "bins": self._bin,
            "items": self._item,
            "serials": self._serial,
            "opening_stock": self._opening_stock,
            "reason_codes": self._reason_code,
        }
        for kind in JOURNAL_SPECS:
            self._parsers[kind] = self._journal_parser(kind)

    def parse(self, kind: str, raw: Mapping[str, object]) -> Row:
        """A typed row, or FieldError for the first wrong field (required fields first)."""
        for field in REQUIRED[kind]:
            value = raw.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise FieldError(field, "is required")
        return self._parsers[kind](raw)

    # -- field parsers ---------------------------------------------------------------

    def code(self, raw: Mapping[str, object], field: str) -> str:
        value = raw.get(field)
        if isinstance(value, str):
            hit = self._codes.get(value)
            if hit is not None:
                return hit
        text = _text(value, field)
        try:
            checked = check_code(text, "code")
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
        if isinstance(value, str):
            self._codes[value] = checked
        return checked

    def optional_code(self, raw: Mapping[str, object], field: str) -> str | None:
        if not _text(raw.get(field), field):
            return None
        return self.code(raw, field)

    def label(self, raw: Mapping[str, object], field: str, what: str, cache: bool = True) -> str:
        """A barcode-like value; `cache=False` for values that do not repeat (serials)."""
        value = raw.get(field)
        if cache and isinstance(value, str):
            hit = self._labels.get(value)
            if hit is not None:
                return hit
        text = _text(value, field)
        try:
            checked = check_barcode(text, what)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
        if cache and isinstance(value, str):
            self._labels[value] = checked
        return checked

    @staticmethod
    def name(raw: Mapping[str, object], field: str) -> str:
        try:
            return check_name(_text(raw.get(field), field), field)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None

    @staticmethod
    def short_text(raw: Mapping[str, object], field: str, limit: int) -> str:
        text = _text(raw.get(field), field)
        if len(text) > limit:
            raise FieldError(field, f"is longer than {limit} characters")
        if any(ord(ch) < 32 for ch in text):
            raise FieldError(field, "holds a control character")
        return text

    @staticmethod
    def boolean(raw: Mapping[str, object], field: str) -> bool:
        value = raw.get(field)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, int) and value in (0, 1):
            return value == 1
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise FieldError(field, f"must be true/false, yes/no or 1/0, not {value!r}")

    def _number(self, raw: Mapping[str, object], field: str) -> Decimal:
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise FieldError(field, f"must be a number, not {value!r}")
        try:
            return parse_decimal(value, field)
        except ValueError:
            raise FieldError(field, f"must be a number, not {value!r}") from None

    def cost(
        self, raw: Mapping[str, object], field: str, default: Decimal | None = None
    ) -> Decimal:
        value = raw.get(field)
        if default is not None and (value is None or value == ""):
            return default
        if isinstance(value, str) and _PLAIN_COST.match(value):
            # The common case, '55.232': a valid cost by its shape alone.
            return Decimal(value)
        hashable = isinstance(value, str | int | Decimal) and not isinstance(value, bool)
        if hashable:
            hit = self._costs.get((type(value), value))
            if hit is not None:
                return hit
        number = self._number(raw, field)
        try:
            checked = check_unit_cost(number, field)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
        if hashable:
            self._costs[(type(value), value)] = checked
        return checked

    def quantity(self, raw: Mapping[str, object], field: str) -> Decimal:
        number = self._number(raw, field)
        try:
            return check_on_hand_quantity(number, field)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None

    @staticmethod
    def choice(raw: Mapping[str, object], field: str, enum: type[_E], default: _E | None) -> _E:
        text = _text(raw.get(field), field).lower()
        if not text and default is not None:
            return default
        try:
            return enum(text)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise FieldError(field, f"must be one of {allowed}, not {text!r}") from None

    def barcodes(self, raw: Mapping[str, object], field: str) -> tuple[str, ...]:
        value = raw.get(field)
        if value is None:
            return ()
        if isinstance(value, str):
            parts: list[object] = [p for p in value.split("|") if p.strip()]
        elif isinstance(value, list):
            parts = list(value)
        else:
            raise FieldError(field, f"must be a list of barcodes, not {value!r}")
        result: list[str] = []
        for part in parts:
            if not isinstance(part, str):
                raise FieldError(field, f"a barcode must be text, not {part!r}")
            try:
                barcode = check_barcode(part, "barcode")
            except ValueError as exc:
                raise FieldError(field, str(exc)) from None
            if barcode in result:
                raise FieldError(field, f"barcode {barcode!r} is listed twice")
            result.append(barcode)
        return tuple(result)

    # -- one parser per kind ---------------------------------------------------------

    def _company(self, raw: Mapping[str, object]) -> Row:
        return CompanyRow(
            self.code(raw, "code"), self.name(raw, "name"), self.boolean(raw, "intercompany")
        )

    def _gl_account(self, raw: Mapping[str, object]) -> Row:
        return GlAccountRow(self.code(raw, "code"), self.name(raw, "name"))

    def _gl_entity(self, raw: Mapping[str, object]) -> Row:
        return GlEntityRow(
            self.code(raw, "code"), self.name(raw, "name"), self.code(raw, "company")
        )

    def _inventory_group(self, raw: Mapping[str, object]) -> Row:
        return InventoryGroupRow(
            self.code(raw, "code"),
            self.name(raw, "name"),
            self.optional_code(raw, "inventory_account"),
            self.optional_code(raw, "adjustment_account"),
            self.optional_code(raw, "gl_entity"),
        )

    def _location(self, raw: Mapping[str, object]) -> Row:
        return LocationRow(
            self.code(raw, "code"),
            self.name(raw, "name"),
            self.code(raw, "company"),
            self.optional_code(raw, "gl_entity"),
        )

    def _bin(self, raw: Mapping[str, object]) -> Row:
        return BinRow(
            self.code(raw, "location"),
            self.label(raw, "label", "bin label"),
            self.choice(raw, "kind", BinKind, BinKind.STOCK),
            self.short_text(raw, "zone", ZONE_MAX),
        )

    def _item(self, raw: Mapping[str, object]) -> Row:
        tracking = self.choice(raw, "tracking", Tracking, None)
        auto = self.boolean(raw, "auto_serialized")
        try:
            Item("x", "x", tracking, auto_serialized=auto)
        except ValueError as exc:
            raise FieldError("auto_serialized", str(exc)) from None
        uom = self.short_text(raw, "uom", UOM_MAX) or "EA"
        return ItemRow(
            self.code(raw, "code"),
            self.name(raw, "name"),
            tracking,
            auto,
            uom,
            self.cost(raw, "last_cost", ZERO),
            self.optional_code(raw, "inventory_group"),
            self.barcodes(raw, "barcodes"),
            self.choice(raw, "count_mode", CountMode, CountMode.UNIT),
        )

    def _serial(self, raw: Mapping[str, object]) -> Row:
        return SerialRow(
            self.code(raw, "item"),
            self.label(raw, "serial_number", "serial number", cache=False),
            self.code(raw, "location"),
            self.label(raw, "bin", "bin label"),
            self.cost(raw, "actual_cost"),
        )

    def _opening_stock(self, raw: Mapping[str, object]) -> Row:
        lot = self.short_text(raw, "lot", LOT_MAX)
        return OpeningStockRow(
            self.code(raw, "item"),
            self.code(raw, "location"),
            self.label(raw, "bin", "bin label"),
            self.quantity(raw, "quantity"),
            self.cost(raw, "unit_cost"),
            lot,
        )

    def _reason_code(self, raw: Mapping[str, object]) -> Row:
        active = raw.get("active")
        try:
            kinds = parse_kinds(self._codes_list(raw.get("kinds"), "kinds"))
        except ValueError as exc:
            raise FieldError("kinds", str(exc)) from None
        return ReasonCodeRow(
            self.code(raw, "code"),
            self.name(raw, "description"),
            kinds,
            active is None or active == "" or self.boolean(raw, "active"),
        )

    def _journal_parser(self, kind: str) -> Callable[[Mapping[str, object]], Row]:
        spec = JOURNAL_SPECS[kind]

        def parse(raw: Mapping[str, object]) -> Row:
            values = tuple((f.name, self._journal_value(raw, f)) for f in spec.fields)
            row = JournalRecordRow(kind, values)
            if kind == "accounting_periods":
                code = str(row.get("code"))
                if len(code) > PERIOD_CODE_MAX:
                    raise FieldError("code", f"is longer than {PERIOD_CODE_MAX} characters")
                starts, ends = row.get("starts"), row.get("ends")
                assert isinstance(starts, date) and isinstance(ends, date)
                if starts > ends:
                    raise FieldError("ends", f"{ends} is before the start {starts}")
            return row

        return parse

    def _journal_value(self, raw: Mapping[str, object], f: FieldSpec) -> object:
        value = raw.get(f.name)
        if f.type == "bool":
            return self.boolean(raw, f.name)
        if f.type == "refs":
            return self._codes_list(value, f.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return f.default
        if f.type in ("code", "ref", "cost_code"):
            return self.code(raw, f.name)
        if f.type == "name":
            return self.name(raw, f.name)
        if f.type == "cost":
            return self.cost(raw, f.name)
        if f.type == "date":
            text = _text(raw.get(f.name), f.name)
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise FieldError(f.name, f"must be a date YYYY-MM-DD, not {text!r}") from None
        if f.type == "choice":
            text = _text(raw.get(f.name), f.name).lower()
            if text not in f.choices:
                raise FieldError(f.name, f"must be one of {', '.join(f.choices)}, not {text!r}")
            return text
        raise AssertionError(f"unknown field type {f.type}")  # pragma: no cover

    @staticmethod
    def _codes_list(value: object, field: str) -> tuple[str, ...]:
        """Codes as "A|B" (CSV) or a list (JSON); empty: none."""
        parts = value.split("|") if isinstance(value, str) else value
        if parts is None:
            return ()
        if not isinstance(parts, list | tuple):
            raise FieldError(field, f"must be a list of codes, not {value!r}")
        codes = []
        for part in parts:
            text = _text(part, field)
            if not text:
                continue
            try:
                codes.append(check_code(text, "code"))
            except ValueError as exc:
                raise FieldError(field, str(exc)) from None
        return tuple(dict.fromkeys(codes))


def key_of(kind: str, row: Row) -> tuple[str, ...]:
    """What makes a row unique within its kind (a second row with this key is a duplicate)."""
    if isinstance(row, JournalRecordRow):
        spec = JOURNAL_SPECS[row.kind]
        return tuple(str(row.get(f)) for f in spec.key) if spec.key else (row.kind,)
    if isinstance(row, SerialRow):
        return (row.item, row.serial_number)
    if isinstance(row, BinRow):
        return (row.location, row.label)
    if isinstance(row, OpeningStockRow):
        return (row.item, row.location, row.bin, row.lot)
    return (row.code,)


def describe_key(kind: str, key: tuple[str, ...]) -> str:
    if kind == "bins":
        return f"bin {key[1]!r} in location {key[0]!r}"
    if kind == "serials":
        return f"serial {key[1]!r} of item {key[0]!r}"
    if kind == "opening_stock":
        lot = f", lot {key[3]!r}" if key[3] else ""
        return f"opening stock of item {key[0]!r} in bin {key[2]!r} of {key[1]!r}{lot}"
    if kind in JOURNAL_SPECS and len(key) > 1:
        names = JOURNAL_SPECS[kind].key
        return f"{SINGULAR[kind]} " + ", ".join(
            f"{n} {v!r}" for n, v in zip(names, key, strict=True)
        )
    if kind == "journal_settings":
        return "the journal settings"
    return f"{SINGULAR[kind]} {key[0]!r}"


SINGULAR: Final = {
    "companies": "company",
    "gl_accounts": "GL account",
    "gl_entities": "GL entity",
    "inventory_groups": "inventory group",
    "locations": "location",
    "bins": "bin",
    "items": "item",
    "serials": "serial",
    "opening_stock": "opening stock",
    "accounting_periods": "accounting period",
    "price_levels": "price level",
    "rate_schedules": "billing rate schedule",
    "price_level_items": "price level unit price",
    "cost_categories": "cost category",
    "jobs": "job",
    "cost_codes": "cost code",
    "equipment": "equipment",
    "work_orders": "work order",
    "item_journal": "item's journal attributes",
    "location_journal": "location's journal attributes",
    "inventory_group_journal": "inventory group's journal attributes",
    "journal_settings": "journal settings",
    "reason_codes": "reason code",
}


def check_serial_item(tracking: Tracking, item: str) -> None:
    """A serial belongs to a serial-tracked item."""
    if tracking is not Tracking.SERIAL:
        raise FieldError(
            "item", f"item {item!r} is tracked by {tracking.value}, not serial: it has no serials"
        )


def check_opening_stock(tracking: Tracking, row: OpeningStockRow) -> None:
    """Opening stock is for untracked and lot items; lots exactly for lot items."""
    try:
        OpeningStock(tracking, row.quantity, row.lot)
    except ValueError as exc:
        field = "lot" if "lot" in str(exc) else "item"
        raise FieldError(field, f"item {row.item!r}: {exc}") from None


def opening_average(
    existing: tuple[Decimal, Decimal] | None, rows: list[tuple[Decimal, Decimal]]
) -> Decimal:
    """The average cost at a location after opening rows (quantity, unit cost).

    Stock already on hand there (quantity, average) weighs in like one more row, so a
    second opening import does not forget the first.
    """
    pairs = list(rows)
    if existing is not None and existing[0] > ZERO:
        pairs.append(existing)
    if sum((q for q, _ in pairs), ZERO) == ZERO:
        # Zero quantities carry no weight: take the plain mean of the costs given.
        costs = [c for _, c in rows]
        return weighted_average([(Decimal(1), c) for c in costs]) if costs else ZERO
    return weighted_average(pairs)
