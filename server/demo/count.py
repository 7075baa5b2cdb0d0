"""The demo's stock count: a whole count on the sample warehouse, through the services.

Bins of MAIN are chosen from the sample document: the two stock bins holding the most
serials, a third serial bin, an OUT bin holding a released serial, the bin of a lot, and
the bin of the seed's item 123106. The counter counts every bin of the scope as the
system has it, except:

- a serial of the first bin is missing (a write-off);
- a serial of the same item in a second bin is found in the first (a serial transfer
  proposal): the first bin's row of the profile weighs both serials' actual costs;
- a serial the system does not know is found in the first bin (a gain);
- the released serial of the OUT bin is found in the third bin (an exception);
- one unit of the auto-serialized item is found without a serial in the third bin
  (a gain whose serial is generated at finalize, at the average cost);
- the lot has 2 more, the untracked item 2 fewer than the system (quantity variances).

Then the supervisor sets MAIN's tolerances, reads the discrepancies, clears the unknown
serial (to be investigated, not gained), approves what is above tolerance in one bulk
review per line kind with a reason code of the sample's list, prints the Stock Count
profile per item and bin (the first bin's row weighs the serial written off and the serial
transferred in, at their different actual costs), sees that the count moved to Counted by
itself when its last bin was counted, finalizes it and prints both documents read back
from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations
from typing import Any

from server.bootstrap import open_runtime
from server.counts.usecases import counting as counts
from server.counts.usecases import review as count_review
from server.counts.usecases.review import ReviewedLine, ReviewedProfile
from server.demo.data import SEED_ITEM
from server.domain.auth import Caller, CallerKind
from server.domain.counting import (
    CountDocument,
    LineFilter,
    LineKind,
    SubmittedBinCount,
    ToleranceRules,
)
from server.domain.counting.model import status_label
from server.domain.masterdata import Role
from server.uow import SqlUnitOfWork

Say = Callable[[str], None]
LOCATION = "MAIN"
UNKNOWN_SERIAL = "SN-DEMO-FOUND-1"
TOLERANCES = ToleranceRules(quantity=Decimal(1), value=Decimal(50))
# Codes of the sample's reason code list (server.demo.data.REASON_CODES), per line kind.
REASONS = {
    LineKind.MISSING: "THEFT",
    LineKind.SERIAL_TRANSFER: "TRANSFER",
    LineKind.QUANTITY_VARIANCE: "MISCOUNT",
    LineKind.GENERATED: "FOUND",
    LineKind.UNKNOWN: "FOUND",
}
DOCUMENT_TITLES = {
    "quantity_adjustment": "Quantity Adjustment",
    "stock_transfer": "Stock Transfer",
}


class _Plan:
    """What the counter finds per bin: the system's contents with the demo's changes."""

    def __init__(self, sample: Mapping[str, Any]) -> None:
        kinds = {b["label"]: b["kind"] for b in sample["bins"] if b["location"] == LOCATION}
        self.serials: dict[str, set[tuple[str, str]]] = {}
        released: list[tuple[str, str, str]] = []
        for s in sample["serials"]:
            if s["location"] != LOCATION:
                continue
            key = (s["item"], s["serial_number"])
            if kinds[s["bin"]] == "out":
                released.append((s["bin"], *key))
            else:
                self.serials.setdefault(s["bin"], set()).add(key)
        self.quantities: dict[str, dict[tuple[str, str], Decimal]] = {}
        lot_bin = plain_bin = ""
        for o in sample["opening_stock"]:
            if o["location"] != LOCATION:
                continue
            where = self.quantities.setdefault(o["bin"], {})
            key = (o["item"], o.get("lot", ""))
            where[key] = where.get(key, Decimal(0)) + Decimal(o["quantity"])
            if key[1] and not lot_bin:
                lot_bin, lot_key = o["bin"], key
            # The seed's 123106 keeps its 14 at 55.232 (the journal's example needs them).
            if not key[1] and o["item"] != SEED_ITEM and not plain_bin:
                plain_bin, plain_key = o["bin"], key
        auto = next(i["code"] for i in sample["items"] if i["auto_serialized"])
        by_size = sorted(self.serials, key=lambda label: (-len(self.serials[label]), label))
        # A serial missing from the first bin and a serial of the same item found there,
        # moved in from a second bin: the first bin's row of the profile weighs the two
        # serials' different actual costs.
        pairs = sorted(
            (-len(self.serials[a]), a, x, b, y)
            for a, b in permutations(self.serials, 2)
            for x in self.serials[a]
            for y in self.serials[b]
            if x[0] == y[0]
        )
        _, first, lost, second, moved = pairs[0]
        third = next(label for label in by_size if label not in (first, second))
        out_bin, out_item, out_serial = sorted(released)[0]
        self.bins = sorted({first, second, third, out_bin, lot_bin, plain_bin})

        counted = {label: set(self.serials.get(label, set())) for label in self.bins}
        found = {label: dict(self.quantities.get(label, {})) for label in self.bins}
        counted[first] -= {lost}
        counted[second] -= {moved}
        counted[first] |= {moved, (lost[0], UNKNOWN_SERIAL)}
        counted[third] |= {(out_item, out_serial)}
        found[third][(auto, "")] = found[third].get((auto, ""), Decimal(0)) + 1
        found[lot_bin][lot_key] += 2
        found[plain_bin][plain_key] -= 2
        self.counted = counted
        self.found = found


async def run_demo_count(database_url: str, sample: Mapping[str, Any], say: Say) -> None:
    plan = _Plan(sample)
    async with open_runtime(database_url) as runtime:
        uow = runtime.uow()
        supervisor = await _caller(uow, "supervisor", Role.SUPERVISOR)
        counter = await _caller(uow, "counter", Role.COUNTER)
        now = datetime.now(UTC)
        await count_review.set_tolerances(uow, supervisor, LOCATION, TOLERANCES, now)
        view = await counts.create_count(
            uow, supervisor, counts.NewCount(LOCATION, "bins", bins=plan.bins), now
        )
        number = view.count.number
        await counts.start_count(uow, supervisor, number, now)
        say("")
        say(f"stock count {number} at {LOCATION} over {len(plan.bins)} bins: "
            + ", ".join(plan.bins))  # fmt: skip
        for n, label in enumerate(plan.bins):
            started = now + timedelta(minutes=5 * n)
            header = await counts.submit_bin_count(
                uow,
                counter,
                number,
                SubmittedBinCount(
                    bin=label,
                    started_at=started,
                    finished_at=started + timedelta(minutes=4),
                    serials=sorted(plan.counted[label]),
                    quantities=[(i, lot, q) for (i, lot), q in sorted(plan.found[label].items())],
                ),
                datetime.now(UTC),
            )
            serials, keyed = len(plan.counted[label]), len(plan.found[label])
            say(f"  bin count {header.id} of {label} by {header.counter}: "
                f"{serials} serials, {keyed} quantities")  # fmt: skip

        reviewed = await count_review.reviewed_reconciliation(uow, number)
        say("")
        say(f"discrepancies ({len(reviewed.lines)} lines; tolerances at {LOCATION}: "
            f"quantity {TOLERANCES.quantity}, value {TOLERANCES.value}):")  # fmt: skip
        _print_lines(reviewed.lines, say)
        say("")
        for x in reviewed.lines:
            if x.line.kind is LineKind.UNKNOWN:
                await count_review.decide_line(
                    uow, supervisor, number, x.line.id, "clear", datetime.now(UTC)
                )
                say(f"  cleared {x.line.id} (to be investigated, not gained)")
        # One bulk approval per kind: every line of the kind above tolerance, all or nothing.
        for kind in sorted({x.line.kind for x in reviewed.lines if x.needs_approval}):
            if kind is LineKind.UNKNOWN:
                continue
            done = await count_review.review_lines(
                uow, supervisor, number, "approve", datetime.now(UTC),
                where=LineFilter(kind=kind, above_tolerance=True), reason_code=REASONS[kind],
            )  # fmt: skip
            say(f"  bulk approve {kind.value} lines above tolerance with {REASONS[kind]}: "
                f"{len(done.changed)} changed, {len(done.unchanged)} already so")  # fmt: skip
        reviewed = await count_review.reviewed_reconciliation(uow, number)
        say("")
        say("after review (cleared lines are not adjusted; exceptions never are):")
        _print_lines(reviewed.lines, say)

        rows = await count_review.reviewed_rows(uow, number)
        say("")
        say("the Stock Count profile per item and bin (over the selected lines):")
        _print_rows(rows, say)

        # The last bin counted with no conflict moved the count to Counted by itself.
        status = (await counts.get_count(uow, supervisor, number)).count.status
        say("")
        say(f"count {number} is {status_label(status)} (every bin counted, no conflict)")
        result = await count_review.finalize(uow, supervisor, number, False, datetime.now(UTC))
        for doc in await count_review.documents_of(uow, number):
            _print_document(doc, say)
        final = await counts.get_count(uow, supervisor, number)
        documents = await count_review.documents_of(uow, number)
        say("")
        say(f"count {number}: {final.count.status.value}; "
            + "; ".join(f"{d.number} {_lines(len(d.lines))} total {d.total_value}"
                        for d in documents))  # fmt: skip
        assert result.count.number == number


async def _caller(uow: SqlUnitOfWork, name: str, role: Role) -> Caller:
    async with uow:
        user = await uow.users.by_username(name)
    assert user is not None, f"the demo creates the user {name} first"
    return Caller(CallerKind.USER, name, user_id=user.id, role=role)


def _plain(number: Decimal) -> str:
    """A quantity or cost without trailing zeros (values keep their cents)."""
    return format(number.normalize(), "f") if number else "0"


def _print_lines(lines: Sequence[ReviewedLine], say: Say) -> None:
    say(f"  {'kind':<24} {'item':<7} {'bin':<12} {'serial / lot':<18} {'from bin':<12} "
        f"{'adj qty':>7} {'st qty':>6} {'adj cost':>9} {'adj value':>10} {'st value':>9}  "
        "review")  # fmt: skip
    for x in lines:
        line = x.line
        if not line.adjustable:
            state = "exception"
        elif not x.selected:
            state = "cleared"
        elif x.approved_by:
            state = f"approved {x.approved_by} {x.reason_code}"
        else:
            state = "needs approval" if x.needs_approval else "within tolerance"
        say(f"  {line.kind.value:<24} {line.item:<7} {line.bin:<12} "
            f"{line.serial or line.lot:<18} {line.from_bin or '':<12} "
            f"{_plain(line.adjustment_quantity):>7} {_plain(line.stock_transfer_quantity):>6} "
            f"{_plain(line.adjustment_cost):>9} {line.adjustment_value:>10} "
            f"{line.stock_transfer_value:>9}  {state}")  # fmt: skip


def _print_rows(found: ReviewedProfile, say: Say) -> None:
    say(f"  {'item':<7} {'bin':<12} {'lot':<16} {'adj qty':>8} {'transfer qty':>12} "
        f"{'adj cost':>12} {'adj value':>11} {'transfer value':>14}  serial lines")  # fmt: skip
    for r in found.rows:
        p = r.row
        if not (p.adjustment_quantity or p.stock_transfer_quantity):
            continue
        serials = ", ".join(
            f"{x.line.serial or x.line.kind.value} {_plain(x.line.adjustment_cost)}"
            + ("" if x.selected else " (cleared)")
            for x in r.lines
        )
        say(f"  {p.item:<7} {p.bin:<12} {p.lot or '-':<16} {_plain(p.adjustment_quantity):>8} "
            f"{_plain(p.stock_transfer_quantity):>12} {_plain(p.adjustment_cost):>12} "
            f"{p.adjustment_value:>11} {p.stock_transfer_value:>14}  {serials}")  # fmt: skip


def _print_document(doc: CountDocument, say: Say) -> None:
    say("")
    say(f"{DOCUMENT_TITLES[doc.kind]} {doc.number} (count {doc.count}, {doc.location}, "
        f"by {doc.created_by}): {_lines(len(doc.lines))}, "
        f"total value {doc.total_value}")  # fmt: skip
    for x in doc.lines:
        if doc.kind == "stock_transfer":
            cost = _plain(x.adjustment_cost)
            say(f"  {x.line_no:>3} {x.item:<7} {x.serial:<18} {x.from_bin} -> {x.bin:<12} "
                f"cost {cost:>9} value {x.stock_transfer_value:>9}")  # fmt: skip
        else:
            what = x.serial or x.lot or ("serials generated" if x.generate_serials else "")
            say(f"  {x.line_no:>3} {x.item:<7} {x.bin:<12} {what:<18} "
                f"qty {_plain(x.adjustment_quantity):>4} cost {_plain(x.adjustment_cost):>9} "
                f"value {x.adjustment_value:>9}")  # fmt: skip
    if doc.gl_lines:
        say("  GL:")
        for g in doc.gl_lines:
            say(f"    line {g.line_no:>3} account {g.account:<6} entity {g.entity or '-':<11} "
                f"{g.amount:>10}")  # fmt: skip
    else:
        say("  GL: none (bins of one GL entity: a transfer does not change the value)")


def _lines(n: int) -> str:
    return "1 line" if n == 1 else f"{n:,} lines"
