"""The journal form's one mapping between the posted fields and the journal's domain types.

The form is flat: header fields by name (`effective_date`, `period`, `description`,
`transaction_type`), and per line `l{N}-{field}` for the inventory line (item, serial,
lot, quantity, unit cost) and `l{N}-from-{field}` / `l{N}-to-{field}` for its
From/Adjust and To sides (location, bin, job, cost code, ..., GL account and entity,
and the job billing fields of the seed's Magnify view). An empty field asks for the
default, as a missing field does in the API; "No GL on this side" blanks the side's GL
account and entity (the seed: "the GL Account must be blanked"). A line with no item and
no quantity is not a line.

The rules' refusals name fields the API's way (`lines/2/from_side/gl_account`);
`field_name` turns them into the form's names so each shows at its field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from server.domain.errors import FieldProblem
from server.domain.journal import (
    BillingRate,
    JobBilling,
    JournalLine,
    JournalSide,
    JournalTransaction,
    LineOrigin,
    TransactionType,
)

TYPE_NAMES = {
    TransactionType.LOC_TO_LOC: "Loc-to-Loc",
    TransactionType.LOC_TO_JOB: "Loc-to-Job",
    TransactionType.JOB_TO_JOB: "Job-to-Job",
    TransactionType.JOB_TO_LOC: "Job-to-Loc",
    TransactionType.ADJUSTMENT: "Adjustment",
}
SIDES = (("from", "from_side"), ("to", "to_side"))
PLACE_FIELDS = (
    "location",
    "bin",
    "job",
    "cost_code",
    "cost_category",
    "bill_item",
    "work_order",
    "equipment",
)
GL_FIELDS = ("gl_account", "gl_entity")
BILLING_DECIMALS = ("quantity_billable", "revenue_rate", "unit_price", "amount_revenue")
LINE_DECIMALS = ("quantity", "unit_cost")
# Carried by lines a wizard or a reversal made (their original's values), never typed.
CARRIED = ("origin", "burden_unit_cost")
MIN_LINES = 3


@dataclass
class JournalForm:
    """What the form shows: every field's text, the errors at fields, the line numbers."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)  # refusals no field holds
    lines: list[int] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def line_numbers(values: Mapping[str, str], wanted: int = MIN_LINES) -> list[int]:
    found = {
        int(key[1:].split("-", 1)[0])
        for key in values
        if key.startswith("l") and key[1:].split("-", 1)[0].isdigit()
    }
    top = max([*found, wanted, 0])
    return list(range(1, max(top, wanted) + 1))


def _decimal(form: JournalForm, name: str) -> Decimal | None:
    text = form.get(name).strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        form.errors[name] = f"{text!r} is not a number"
        return None
    if not value.is_finite():
        form.errors[name] = f"{text!r} is not a number"
        return None
    return value


def _side(form: JournalForm, prefix: str) -> JournalSide | None:
    texts = {f: form.get(f"{prefix}-{f}").strip() for f in PLACE_FIELDS}
    gl = {f: form.get(f"{prefix}-{f}").strip() for f in GL_FIELDS}
    no_gl = form.get(f"{prefix}-no_gl") == "yes"
    rate = form.get(f"{prefix}-billing_rate").strip()
    billing_numbers = {f: _decimal(form, f"{prefix}-{f}") for f in BILLING_DECIMALS}
    use_tax = _decimal(form, f"{prefix}-use_tax_rate")
    extra = form.get(f"{prefix}-extra") == "yes"
    if rate and rate not in {r.value for r in BillingRate}:
        form.errors[f"{prefix}-billing_rate"] = "choose Unit price or Markup"
        rate = ""
    billing = JobBilling(
        quantity_billable=billing_numbers["quantity_billable"],
        extra=extra,
        billing_rate=BillingRate(rate) if rate else None,
        revenue_rate=billing_numbers["revenue_rate"],
        unit_price=billing_numbers["unit_price"],
        amount_revenue=billing_numbers["amount_revenue"],
        use_tax_rate=use_tax,
    )
    if not any(texts.values()) and not any(gl.values()) and not no_gl and billing.is_blank:
        return None
    return JournalSide(
        location=texts["location"],
        bin=texts["bin"] or None,
        job=texts["job"],
        cost_code=texts["cost_code"],
        bill_item=texts["bill_item"],
        cost_category=texts["cost_category"],
        work_order=texts["work_order"],
        equipment=texts["equipment"],
        gl_account="" if no_gl else gl["gl_account"] or None,
        gl_entity="" if no_gl else gl["gl_entity"] or None,
        billing=billing,
    )


def read_form(values: Mapping[str, str]) -> tuple[JournalForm, JournalTransaction | None]:
    """The form as posted, and the draft it makes (None when a field cannot be read:
    the form then carries the error at that field)."""
    form = JournalForm(values={k: v for k, v in values.items() if not k.startswith("_")})
    form.lines = line_numbers(form.values)
    kind_text = form.get("transaction_type")
    kind = next((t for t in TransactionType if t.value == kind_text), None)
    if kind is None:
        form.errors["transaction_type"] = "choose the transaction type"
    day: date | None = None
    try:
        day = date.fromisoformat(form.get("effective_date").strip())
    except ValueError:
        form.errors["effective_date"] = "give the effective date as YYYY-MM-DD"
    lines: list[JournalLine] = []
    for n in form.lines:
        p = f"l{n}"
        item = form.get(f"{p}-item").strip()
        quantity_text = form.get(f"{p}-quantity").strip()
        if not item and not quantity_text:
            continue
        numbers = {f: _decimal(form, f"{p}-{f}") for f in LINE_DECIMALS}
        burden = _decimal(form, f"{p}-burden_unit_cost")
        if not item:
            form.errors[f"{p}-item"] = "give the item"
        if numbers["quantity"] is None and f"{p}-quantity" not in form.errors:
            form.errors[f"{p}-quantity"] = "give the quantity"
        from_side = _side(form, f"{p}-from") or JournalSide()
        to_side = _side(form, f"{p}-to")
        origin_text = form.get(f"{p}-origin") or LineOrigin.MANUAL.value
        origin = next((o for o in LineOrigin if o.value == origin_text), LineOrigin.MANUAL)
        lines.append(
            JournalLine(
                line_no=n,
                item=item,
                quantity=numbers["quantity"] or Decimal(0),
                from_side=from_side,
                to_side=to_side,
                serial=form.get(f"{p}-serial").strip(),
                lot=form.get(f"{p}-lot").strip(),
                unit_cost=numbers["unit_cost"],
                burden_unit_cost=burden,
                origin=origin,
            )
        )
    if not lines and not form.errors:
        form.errors["l1-item"] = "a transaction needs at least one line: give its item"
    if form.errors or kind is None or day is None:
        return form, None
    return form, JournalTransaction(
        effective_date=day,
        transaction_type=kind,
        lines=tuple(lines),
        period=form.get("period").strip() or None,
        description=form.get("description").strip(),
    )


def plain(value: Decimal | str | None) -> str:
    """A quantity or cost without trailing zeros; '' for none."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return value


def write_form(
    transaction: JournalTransaction, on_hand: Mapping[tuple[int, str], Decimal] | None = None
) -> JournalForm:
    """A draft (defaulted, or a wizard's) as the form shows it."""
    values = {
        "effective_date": transaction.effective_date.isoformat(),
        "period": transaction.period or "",
        "description": transaction.description,
        "transaction_type": transaction.transaction_type.value,
    }
    for line in transaction.lines:
        p = f"l{line.line_no}"
        values.update(
            {
                f"{p}-item": line.item,
                f"{p}-serial": line.serial,
                f"{p}-lot": line.lot,
                f"{p}-quantity": plain(line.quantity),
                f"{p}-unit_cost": plain(line.unit_cost),
            }
        )
        if line.origin is not LineOrigin.MANUAL:
            values[f"{p}-origin"] = line.origin.value
            values[f"{p}-burden_unit_cost"] = plain(line.burden_unit_cost)
        for short, name in SIDES:
            side = getattr(line, name)
            if side is None:
                continue
            s = f"{p}-{short}"
            for f in PLACE_FIELDS:
                values[f"{s}-{f}"] = plain(getattr(side, f))
            values[f"{s}-gl_account"] = side.gl_account or ""
            values[f"{s}-gl_entity"] = side.gl_entity or ""
            if side.gl_account == "" and side.gl_entity == "":
                values[f"{s}-no_gl"] = "yes"
            b = side.billing
            for f in BILLING_DECIMALS:
                values[f"{s}-{f}"] = plain(getattr(b, f))
            values[f"{s}-billing_rate"] = b.billing_rate.value if b.billing_rate else ""
            values[f"{s}-extra"] = "yes" if b.extra else ""
            if line.origin is not LineOrigin.MANUAL:
                values[f"{s}-use_tax_rate"] = plain(b.use_tax_rate)
            if on_hand and (line.line_no, name) in on_hand:
                values[f"{s}-on_hand"] = plain(on_hand[(line.line_no, name)])
    numbers = [x.line_no for x in transaction.lines]
    return JournalForm(values=values, lines=line_numbers(values, max([MIN_LINES, *numbers])))


def field_name(location: str) -> str:
    """`lines/2/from_side/billing/unit_price` -> `l2-from-unit_price`; header fields keep
    their names; "" when the path names no field of the form."""
    parts = location.split("/")
    if len(parts) == 1:
        return parts[0] if parts[0] in {"effective_date", "period", "transaction_type"} else ""
    if parts[0] != "lines" or not parts[1].isdigit():
        return ""
    prefix = f"l{parts[1]}"
    rest = parts[2:]
    if not rest:
        return f"{prefix}-item"
    sides = dict((name, short) for short, name in SIDES)
    if rest[0] in sides:
        leaf = rest[-1] if len(rest) > 1 else "location"
        return f"{prefix}-{sides[rest[0]]}-{leaf}"
    return f"{prefix}-{rest[0]}"


def place_problems(form: JournalForm, problems: Sequence[FieldProblem]) -> None:
    """Each refusal at its field; the others in the form's general list."""
    for problem in problems:
        name = field_name(problem.location)
        if name and name not in form.errors:
            form.errors[name] = problem.message
        elif name:
            form.errors[name] += f"; {problem.message}"
        else:
            where = f"{problem.location}: " if problem.location else ""
            form.general.append(f"{where}{problem.message}")
