"""The importer's part for the Inventory Adjustment Journal's master data (seed 004).

It belongs to the importer (it imports nothing of the journal feature): the journal's
master data arrives in the same import files, checked and written in the same
transaction as the rest.

The kinds and their fields are `JOURNAL_SPECS` (server.domain.masterdata.imports); this
module resolves their references and writes them, with the importer's steps and rules:
references are looked up once per kind (never per row), every problem names the file,
row and field, and nothing is written unless every row of the import is right.

Kinds that create records (periods, jobs, cost codes, ...) refuse a key that exists in the
database; attribute kinds (price level unit prices, the journal attributes of items,
locations and inventory groups, the journal settings) replace what is stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from server.domain.masterdata.imports import (
    JOURNAL_SPECS,
    SINGULAR,
    FieldSpec,
    JournalRecordRow,
    describe_key,
    key_of,
)
from server.masterdata.ports import MasterDataRepository
from server.masterdata.usecases.sources import Batch, Problems, rows_of

EXISTS = "already exists in the database"


def _rows(batches: Sequence[Batch], kind: str) -> Iterator[tuple[Batch, int, JournalRecordRow]]:
    for batch, index, row in rows_of(batches, kind):
        assert isinstance(row, JournalRecordRow)
        yield batch, index, row


def _refs(spec_field: FieldSpec, row: JournalRecordRow) -> list[str]:
    value = row.get(spec_field.name)
    if value is None:
        return []
    return list(value) if isinstance(value, tuple) else [str(value)]


class JournalResolver:
    """The journal kinds of one import beside the database ids of what they name."""

    def __init__(
        self, repo: MasterDataRepository, batches: Sequence[Batch], defined: dict[str, set[str]]
    ) -> None:
        self.repo = repo
        self.batches = batches
        self.defined = defined  # codes (first key field) defined by this import, per kind
        self.ids: dict[str, dict[str, int]] = {}
        self.cost_codes: dict[tuple[str, str], int] = {}
        self.new_cost_codes = {
            (str(r.get("job")), str(r.get("code"))) for _, _, r in _rows(batches, "cost_codes")
        }

    def _named(self) -> dict[str, set[str]]:
        named: dict[str, set[str]] = defaultdict(set)
        for kind, spec in JOURNAL_SPECS.items():
            for _, _, row in _rows(self.batches, kind):
                if spec.key == ("code",):
                    named[kind].add(str(row.get("code")))
                for f in spec.fields:
                    if f.type in ("ref", "refs"):
                        named[f.ref].update(_refs(f, row))
        return named

    @classmethod
    async def load(
        cls, repo: MasterDataRepository, batches: Sequence[Batch], defined: dict[str, set[str]]
    ) -> JournalResolver:
        self = cls(repo, batches, defined)
        if not any(b.kind in JOURNAL_SPECS for b in batches):
            return self
        await self._lookup()
        return self

    async def _lookup(self) -> None:
        for kind, codes in self._named().items():
            if codes:
                self.ids[kind] = await self.repo.ids_by_code(kind, codes)
        jobs = set(self.ids.get("jobs", {})) | self.defined.get("jobs", set())
        self.cost_codes = await self.repo.cost_code_ids(jobs) if jobs else {}

    def _known(self, kind: str, code: str) -> bool:
        return code in self.defined.get(kind, set()) or code in self.ids.get(kind, {})

    def check(self, problems: Problems) -> None:
        for kind in JOURNAL_SPECS:
            for batch, index, row in _rows(self.batches, kind):
                self._check_row(problems, batch, index, kind, row)
                if problems.full:
                    return

    def _check_row(
        self, problems: Problems, batch: Batch, index: int, kind: str, row: JournalRecordRow
    ) -> None:
        spec = JOURNAL_SPECS[kind]
        if not spec.replaces:
            key = key_of(kind, row)
            exists = (
                key in self.cost_codes if kind == "cost_codes" else key[0] in self.ids.get(kind, {})
            )
            if exists:
                problems.add(
                    batch.where(index, spec.key[-1]), f"{EXISTS}: {describe_key(kind, key)}"
                )
        for f in spec.fields:
            if f.type in ("ref", "refs"):
                for code in _refs(f, row):
                    if not self._known(f.ref, code):
                        problems.add(
                            batch.where(index, f.name),
                            f"unknown {SINGULAR[f.ref]} {code!r}: it is neither in this "
                            "import nor in the database",
                        )
            elif f.type == "cost_code" and row.get(f.name) is not None:
                job, code = str(row.get("job")), str(row.get(f.name))
                if (job, code) not in self.cost_codes and (job, code) not in self.new_cost_codes:
                    problems.add(
                        batch.where(index, f.name),
                        f"job {job!r} has no cost code {code!r} (neither in this import "
                        "nor in the database)",
                    )

    async def write(self) -> dict[str, int]:
        """Write kind by kind in the documented order; rows stored per kind."""
        counts: dict[str, int] = {}
        for kind, spec in JOURNAL_SPECS.items():
            found = [row for _, _, row in _rows(self.batches, kind)]
            if not found:
                continue
            # What earlier kinds of this import created (and the shared kinds) by id.
            await self._lookup()
            values = [self._values(kind, row) for row in found]
            await self.repo.add_journal_rows(kind, values)
            counts[kind] = len(found)
            if kind == "cost_codes":
                await self._lookup()
                links = [
                    {
                        "cost_code_id": self.cost_codes[
                            (str(row.get("job")), str(row.get("code")))
                        ],
                        "cost_category_id": self.ids["cost_categories"][category],
                    }
                    for row in found
                    for category in _refs(spec.fields[-1], row)
                ]
                if links:
                    await self.repo.add_journal_rows("cost_code_categories", links)
        return counts

    def _values(self, kind: str, row: JournalRecordRow) -> dict[str, object]:
        """The row as columns: references become `<field>_id`."""
        values: dict[str, object] = {}
        for f in JOURNAL_SPECS[kind].fields:
            value = row.get(f.name)
            if f.type == "refs":
                continue  # written as links
            if f.type == "ref":
                values[f"{f.name}_id"] = None if value is None else self.ids[f.ref][str(value)]
            elif f.type == "cost_code":
                key = (str(row.get("job")), str(value))
                values["cost_code_id"] = None if value is None else self.cost_codes[key]
            else:
                values[f.name] = value
        return values
