"""The Inventory Adjustment Journal's transaction (seed 004): header, lines, sides.

A `JournalTransaction` is a header (period, effective date, description, transaction
type, and what the system sets on save: transaction id, user id, date posted) with
`JournalLine`s. Each line has a From/Adjust side and, for transfers, a To side; a side is
at a location (optionally a bin) or at a job (cost code, bill item, cost category, work
order, equipment), never both, and carries a GL account and GL entity. Job sides also
carry the billing fields that go to job history (`JobBilling`).

Input and defaults: a field left `None` is defaulted (see defaults.py); an empty string
in `gl_account` / `gl_entity` means "blanked by the user" and is kept blank, as the seed
asks ("the GL Account must be blanked ..."). Transactions are never edited: a correction
is a new transaction (see reverse.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class TransactionType(StrEnum):
    LOC_TO_LOC = "loc_to_loc"
    LOC_TO_JOB = "loc_to_job"
    JOB_TO_JOB = "job_to_job"
    JOB_TO_LOC = "job_to_loc"
    ADJUSTMENT = "adjustment"

    @property
    def is_transfer(self) -> bool:
        return self is not TransactionType.ADJUSTMENT

    @classmethod
    def of_record(cls, stored: str | None) -> TransactionType:
        """A stored record's type. Records made before the field existed have none and
        read as Adjustment, as the seed's data conversion shows them."""
        if stored is None or not stored.strip():
            return cls.ADJUSTMENT
        return cls(stored)


class SideKind(StrEnum):
    LOCATION = "location"
    JOB = "job"


# The place each side must be at, per transaction type (None: the side is absent).
# Adjustment permits a location or a job on its From/Adjust side and an optional To side
# that carries the GL account the seed's average-cost example debits.
SIDE_RULES: dict[TransactionType, tuple[SideKind | None, SideKind | None]] = {
    TransactionType.LOC_TO_LOC: (SideKind.LOCATION, SideKind.LOCATION),
    TransactionType.LOC_TO_JOB: (SideKind.LOCATION, SideKind.JOB),
    TransactionType.JOB_TO_JOB: (SideKind.JOB, SideKind.JOB),
    TransactionType.JOB_TO_LOC: (SideKind.JOB, SideKind.LOCATION),
    TransactionType.ADJUSTMENT: (None, None),
}
JOURNAL = "IA"  # the GL journal code of this journal's postings


def adds_on_to_line(transaction_type: TransactionType, line: JournalLine) -> bool:
    """The seed's form of adding a serialized item: "the adjustment to add the item would
    be made with the Location on the 'To' line completed". An Adjustment whose To side is
    at a location and whose From/Adjust side names no place (at most the GL account and
    entity to credit). It posts as the From/Adjust form does with the From/Adjust side at
    the To side's location and bin: the same stock, the same GL."""
    return (
        transaction_type is TransactionType.ADJUSTMENT
        and line.to_side is not None
        and not line.from_side.has_location_fields
        and not line.from_side.has_job_fields
        and line.to_side.kind is SideKind.LOCATION
    )


class LineOrigin(StrEnum):
    """Who made a line. Manual lines get every default; lines a wizard builds from job
    history, and the lines of a reversal, carry the original costs and revenue so that
    they undo it exactly (seed 004: "using the exact values present when it was
    initially created")."""

    MANUAL = "manual"
    WIZARD = "wizard"
    REVERSAL = "reversal"


class BillingRate(StrEnum):
    UNIT_PRICE = "unit_price"
    MARKUP = "markup"


@dataclass(frozen=True, slots=True)
class JobBilling:
    """The Magnify fields of a job side. `None` fields are defaulted."""

    quantity_billable: Decimal | None = None
    extra: bool = False
    billing_rate: BillingRate | None = None
    revenue_rate: Decimal | None = None  # a unit price, or a markup in percent
    unit_price: Decimal | None = None
    amount_revenue: Decimal | None = None
    # Percent; None: the job's. A reversal carries the original's so that it undoes it.
    use_tax_rate: Decimal | None = None

    @property
    def is_blank(self) -> bool:
        return self is _BLANK_BILLING or self == _BLANK_BILLING


_BLANK_BILLING = JobBilling()


@dataclass(frozen=True, slots=True)
class JournalSide:
    """One side of a line: location fields or job fields, never both."""

    location: str = ""
    bin: str | None = None
    job: str = ""
    cost_code: str = ""
    bill_item: str = ""
    cost_category: str = ""
    work_order: str = ""
    equipment: str = ""
    gl_account: str | None = None  # None: default it; "": blanked, no GL on this side
    gl_entity: str | None = None
    # Frozen, so one blank billing is shared by the sides that give none.
    billing: JobBilling = _BLANK_BILLING

    @property
    def has_location_fields(self) -> bool:
        return bool(self.location) or bool(self.bin)

    @property
    def has_job_fields(self) -> bool:
        if (
            self.job
            or self.cost_code
            or self.bill_item
            or self.cost_category
            or self.work_order
            or self.equipment
        ):
            return True
        billing = self.billing  # `is_blank` inline: read some ten times a line
        return billing is not _BLANK_BILLING and billing != _BLANK_BILLING

    @property
    def kind(self) -> SideKind | None:
        location = bool(self.location) or bool(self.bin)  # `has_location_fields`
        if self.has_job_fields:
            return None if location else SideKind.JOB
        return SideKind.LOCATION if location else None

    @property
    def account(self) -> str | None:
        """The GL account as posted: None when blank."""
        account = self.gl_account
        return None if account is None else account.strip() or None

    @property
    def entity(self) -> str | None:
        entity = self.gl_entity
        return None if entity is None else entity.strip() or None

    def with_gl(
        self, gl_account: str | None, gl_entity: str | None, billing: JobBilling | None = None
    ) -> JournalSide:
        """This side with its GL account and entity, and its billing when given: what
        `dataclasses.replace` gives, in half its time (the defaults make two a line)."""
        return JournalSide(
            self.location,
            self.bin,
            self.job,
            self.cost_code,
            self.bill_item,
            self.cost_category,
            self.work_order,
            self.equipment,
            gl_account,
            gl_entity,
            self.billing if billing is None else billing,
        )


@dataclass(frozen=True, slots=True)
class JournalLine:
    line_no: int
    item: str
    quantity: Decimal
    from_side: JournalSide
    to_side: JournalSide | None = None
    serial: str = ""
    lot: str = ""
    unit_cost: Decimal | None = None  # None: default (location cost, last cost, serial cost)
    uom: str | None = None  # display only: the item's
    # Display only: computed on job transfers from the burden rates (see defaults.py);
    # only wizard and reversal lines may carry one in (their original's).
    burden_unit_cost: Decimal | None = None
    origin: LineOrigin = LineOrigin.MANUAL

    def sides(self) -> tuple[tuple[str, JournalSide], ...]:
        if self.to_side is None:
            return (("from_side", self.from_side),)
        return (("from_side", self.from_side), ("to_side", self.to_side))

    def with_costs(
        self, uom: str | None, unit_cost: Decimal | None, burden_unit_cost: Decimal | None
    ) -> JournalLine:
        """This line with its unit of measure and costs (as `with_gl`, for the defaults)."""
        return JournalLine(
            self.line_no,
            self.item,
            self.quantity,
            self.from_side,
            self.to_side,
            self.serial,
            self.lot,
            unit_cost,
            uom,
            burden_unit_cost,
            self.origin,
        )

    def with_sides(self, from_side: JournalSide, to_side: JournalSide | None) -> JournalLine:
        """This line with these sides (as `with_gl`, for the defaults)."""
        return JournalLine(
            self.line_no,
            self.item,
            self.quantity,
            from_side,
            to_side,
            self.serial,
            self.lot,
            self.unit_cost,
            self.uom,
            self.burden_unit_cost,
            self.origin,
        )


@dataclass(frozen=True, slots=True)
class JournalTransaction:
    effective_date: date
    transaction_type: TransactionType
    lines: tuple[JournalLine, ...]
    period: str | None = None
    description: str = ""
    # Set by the system when the transaction is saved (see `stamp`).
    transaction_id: str | None = None
    user_id: str | None = None
    date_posted: datetime | None = None

    @property
    def has_gl(self) -> bool:
        return any(side.account for line in self.lines for _, side in line.sides())


@dataclass(frozen=True, slots=True)
class JournalWarning:
    """Something the user should see but that does not stop the save."""

    location: str
    message: str


def stamp(
    transaction: JournalTransaction, transaction_id: str, user_id: str, now: datetime
) -> JournalTransaction:
    """The header fields the system maintains, set once when the transaction is saved."""
    if transaction.transaction_id is not None:
        raise ValueError(
            f"transaction {transaction.transaction_id} is already saved: no edits, "
            "enter a new transaction to correct it"
        )
    if now.tzinfo is None:
        raise ValueError("date posted needs an aware datetime")
    return replace(transaction, transaction_id=transaction_id, user_id=user_id, date_posted=now)
