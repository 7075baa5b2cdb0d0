"""Reading import sources (CSV and JSON files or bytes) into typed rows, with places.

A `Batch` holds the rows of one kind from one source and knows how to name a place in it:
`serials.csv row 1048 (line 1049), field actual_cost` for CSV, `data.json items row 3,
field code` for JSON, just `code` for a single record sent to the API.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from server.domain.errors import FieldProblem
from server.domain.masterdata.imports import (
    FIELDS,
    KINDS,
    REQUIRED,
    FieldError,
    Row,
    RowParser,
    check_kind,
    kind_from_filename,
    unknown_fields,
)

MAX_PROBLEMS = 100
PROGRESS_EVERY = 200_000
# Parsed JSON, or records handed over by the API: kind -> rows of field -> value.
Records = Mapping[str, Sequence[Mapping[str, object]]]
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Source:
    """One input of an import.

    `name` names it in messages (a file name; "" for a single record from the API).
    `content` is a file path, the file's bytes, or records already decoded.
    `kind` is what a CSV file (or a JSON array) holds; None: from the name, e.g.
    `serials.csv`, `02_bins.csv`, `opening-stock.csv`. A JSON object names its kinds.
    """

    name: str
    content: Path | bytes | Records
    kind: str | None = None


SourceLike = Source | tuple[str, Path | bytes | Records, str | None]


def as_source(value: SourceLike) -> Source:
    return value if isinstance(value, Source) else Source(*value)


class Problems:
    """The problems found so far; the import stops collecting at MAX_PROBLEMS."""

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, location: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(FieldProblem(location, message))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(slots=True)
class Batch:
    source: str
    kind: str
    csv: bool
    rows: list[Row] = field(default_factory=list)
    lines: array[int] = field(default_factory=lambda: array("q"))
    # The fields the source gives: a CSV file's columns, or each JSON record's keys (an
    # update import changes only those).
    columns: frozenset[str] = frozenset()
    given: list[frozenset[str]] = field(default_factory=list)

    def fields_given(self, index: int) -> frozenset[str]:
        """The fields row `index` gives (a CSV row: its file's columns)."""
        return self.columns if self.csv else self.given[index]

    def where(self, index: int, field_name: str | None = None) -> str:
        """The place of row `index` (0-based) and a field, as messages name it."""
        suffix = f", field {field_name}" if field_name else ""
        if not self.source:
            return field_name or "record"
        if self.csv:
            return f"{self.source} row {index + 1} (line {self.lines[index]}){suffix}"
        return f"{self.source} {self.kind} row {index + 1}{suffix}"


def read_sources(
    sources: Sequence[Source], parser: RowParser, problems: Problems, say: Say | None
) -> list[Batch]:
    batches: list[Batch] = []
    for source in sources:
        if problems.full:
            break
        batches.extend(_read(source, parser, problems, say))
    return batches


def _read(source: Source, parser: RowParser, problems: Problems, say: Say | None) -> list[Batch]:
    if isinstance(source.content, Mapping):
        return _records(source, source.content, parser, problems)
    name = source.name or (
        source.content.name if isinstance(source.content, Path) else "the import"
    )
    try:
        data = source.content.read_bytes() if isinstance(source.content, Path) else source.content
    except OSError as exc:
        problems.add(name, f"cannot be read: {exc.strerror or exc}")
        return []
    suffix = Path(name).suffix.lower()
    is_json = suffix == ".json" or (
        suffix != ".csv" and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
    )
    if is_json:
        return _json(source, name, data, parser, problems)
    kind = _kind(source, name, problems)
    if kind is None:
        return []
    return [_csv(name, kind, data, parser, problems, say)]


def _kind(source: Source, name: str, problems: Problems) -> str | None:
    if source.kind:
        try:
            return check_kind(source.kind)
        except ValueError as exc:
            problems.add(name, str(exc))
            return None
    kind = kind_from_filename(Path(name).stem)
    if kind is None:
        problems.add(
            name,
            f"cannot tell what it holds from its name: call it e.g. serials.csv, or give "
            f"the kind ({', '.join(KINDS)})",
        )
    return kind


def _csv(
    name: str, kind: str, data: bytes, parser: RowParser, problems: Problems, say: Say | None
) -> Batch:
    batch = Batch(name, kind, csv=True)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(f"{name} line {line}", "is not UTF-8 text: save the file as UTF-8")
        return batch
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        problems.add(f"{name} line 1", "needs a header row with the field names")
        return batch
    for unknown in unknown_fields(kind, header):
        problems.add(
            f"{name} line 1, field {unknown}",
            f"unknown column for {kind}: the columns are {', '.join(FIELDS[kind])}",
        )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.add(f"{name} line 1, field {column}", "this column appears twice")
        seen.add(column)
    for required in REQUIRED[kind]:
        if required not in seen:
            problems.add(f"{name} line 1, field {required}", "this required column is missing")
    if problems:
        return batch
    batch.columns = frozenset(header)
    width = len(header)
    rows, lines, parse = batch.rows, batch.lines, parser.parse
    end = reader.line_num
    for values in reader:
        # A row starts on the line after the previous one ended (quoted fields may span).
        start, end = end + 1, reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # a blank line
        index = len(rows)
        lines.append(start)
        if len(values) != width:
            problems.add(batch.where(index), f"has {len(values)} values but the header has {width}")
        else:
            try:
                rows.append(parse(kind, dict(zip(header, values, strict=True))))
                if say is not None and len(rows) % PROGRESS_EVERY == 0:
                    say(f"{name}: {len(rows):,} rows read")
                continue
            except FieldError as exc:
                problems.add(batch.where(index, exc.field), exc.message)
        rows.append(_PLACEHOLDER)  # keep row numbers aligned with the file
        if problems.full:
            break
    return batch


_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def _json(
    source: Source, name: str, data: bytes, parser: RowParser, problems: Problems
) -> list[Batch]:
    try:
        document: Any = _DECODER.decode(data.removeprefix(b"\xef\xbb\xbf"))
    except msgspec.DecodeError as exc:
        problems.add(name, f"is not valid JSON: {exc}")
        return []
    except RecursionError:
        problems.add(name, "is not valid JSON: it is nested too deeply")
        return []
    if isinstance(document, list):
        kind = _kind(source, name, problems)
        if kind is None:
            return []
        document = {kind: document}
    if not isinstance(document, dict):
        problems.add(name, 'must hold one JSON object whose keys are kinds, e.g. {"items": []}')
        return []
    return _records(Source(name, document), document, parser, problems)


def _records(
    source: Source, records: Mapping[str, object], parser: RowParser, problems: Problems
) -> list[Batch]:
    batches: list[Batch] = []
    for key, rows in records.items():
        where = f"{source.name} {key}".strip()
        try:
            kind = check_kind(key)
        except ValueError as exc:
            problems.add(where, str(exc))
            continue
        if not isinstance(rows, list | tuple):
            problems.add(where, "must be an array of objects")
            continue
        batch = Batch(source.name, kind, csv=False)
        for index, raw in enumerate(rows):
            row = _record(batch, index, raw, parser, problems)
            batch.rows.append(_PLACEHOLDER if row is None else row)
            given = frozenset(map(str, raw)) if isinstance(raw, Mapping) else frozenset()
            batch.given.append(given)
            if problems.full:
                break
        batches.append(batch)
    return batches


def _record(
    batch: Batch, index: int, raw: object, parser: RowParser, problems: Problems
) -> Row | None:
    if not isinstance(raw, Mapping):
        problems.add(batch.where(index), f"must be an object with fields, not {raw!r}")
        return None
    names = [str(k) for k in raw]
    unknown = unknown_fields(batch.kind, names)
    if unknown:
        problems.add(
            batch.where(index, unknown[0]),
            f"unknown field for {batch.kind}: the fields are {', '.join(FIELDS[batch.kind])}",
        )
        return None
    try:
        return parser.parse(batch.kind, raw)
    except FieldError as exc:
        problems.add(batch.where(index, exc.field), exc.message)
        return None


def rows_of(batches: Sequence[Batch], kind: str) -> Iterator[tuple[Batch, int, Row]]:
    """Every row of a kind, in source order, with its batch and index."""
    for batch in batches:
        if batch.kind == kind:
            for index, row in enumerate(batch.rows):
                yield batch, index, row


class _Placeholder:
    """Stands for a row that failed: keeps row numbers; never reaches the database."""


_PLACEHOLDER: Any = _Placeholder()
