"""Properties over random snapshots and counts: applying the finalize documents to the
snapshot gives the counted state of every adjusted line; transfers keep total value;
adjustment values add up to the GL; every document balances."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.counting import (
    BinCount,
    FinalizeFacts,
    GlSetup,
    ItemAccounts,
    LineKind,
    Reconciliation,
    Review,
    Snapshot,
    SnapshotBalance,
    SnapshotSerial,
    ToleranceRules,
    draft_documents,
    reconcile,
)
from server.domain.counting.finalize import FinalizedCount
from server.domain.masterdata import Tracking
from server.domain.money import round_value
from server.domain.posting import LocationSide, PostingResult, gl_totals
from tests.unit.counting.factory import BIN_KINDS, ITEMS, SCOPE, T0

IN_SCOPE = ["B1", "B2", "B3", "B4"]
LOOSE = ToleranceRules(quantity=Decimal(10**9), value=Decimal(10**12))
GL = GlSetup(
    accounts={i: ItemAccounts("10150", "50111") for i in ITEMS},
    bin_entities={"B3": "E2", "X1": "E2"},
    default_entity="E1",
)
costs = st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False)
quantities = st.decimals(min_value=0, max_value=500, places=4, allow_nan=False)


@dataclass
class Case:
    snapshot: Snapshot
    effective: dict[str, BinCount]
    cleared_share: int


@st.composite
def cases(draw: st.DrawFn) -> Case:
    counted = draw(st.sets(st.sampled_from(IN_SCOPE), min_size=1))
    serials: list[SnapshotSerial] = []
    outside: list[SnapshotSerial] = []
    scans: dict[str, set[tuple[str, str]]] = {b: set() for b in counted}
    for n in range(draw(st.integers(0, 25))):
        number = f"S{n}"
        home = draw(st.sampled_from([*IN_SCOPE, "B9", "X1", "X9", None]))
        if home is not None:
            s = SnapshotSerial("SER", number, home, draw(costs), BIN_KINDS[home])
            (outside if home.startswith("X") else serials).append(s)
        # Where it physically is: nowhere counted, one counted bin, rarely two (conflict).
        seen = draw(st.lists(st.sampled_from(sorted(counted)), max_size=2, unique=True))
        if len(seen) == 2 and draw(st.integers(0, 3)):
            seen = seen[:1]
        for b in seen:
            scans[b].add(("SER", number))
    balances: list[SnapshotBalance] = []
    keyed: dict[str, dict[tuple[str, str], Decimal]] = {b: {} for b in counted}
    for item, lot in (("BULK", ""), ("LOT", "L1"), ("LOT", "L2")):
        for b in IN_SCOPE:
            if draw(st.booleans()):
                balances.append(SnapshotBalance(item, b, lot, draw(quantities), draw(costs)))
            if b in counted and draw(st.booleans()):
                keyed[b][(item, lot)] = draw(quantities)
    for b in counted:
        units = draw(st.integers(0, 3))
        if units:
            keyed[b][("AUTO", "")] = Decimal(units)
    snap = Snapshot(
        location="MAIN",
        scope=SCOPE,
        bin_kinds=BIN_KINDS,
        items=ITEMS,
        serials=tuple(serials),
        balances=tuple(balances),
        outside_serials=tuple(outside),
    )
    effective = {
        b: BinCount(f"bc-{b}", b, f"user-{b}", "dev", T0, T0, frozenset(scans[b]), keyed[b])
        for b in counted
    }
    return Case(snap, effective, draw(st.integers(0, 2)))


def cleared_ids(recon: Reconciliation, share: int) -> frozenset[str]:
    """Clear every second or third line (or none), deterministically."""
    if share == 0:
        return frozenset()
    return frozenset(x.id for i, x in enumerate(recon.lines) if i % (share + 1) == 0)


def run(case: Case) -> tuple[Reconciliation, frozenset[str], FinalizedCount]:
    recon = reconcile(case.snapshot, case.effective)
    cleared = cleared_ids(recon, case.cleared_share)
    numbers = iter(f"GEN{n}" for n in range(1000))
    done = draft_documents(
        FinalizeFacts(
            count="SC",
            location="MAIN",
            recon=recon,
            review=Review(cleared=cleared),
            rules=LOOSE,
            gl=GL,
            positions={},
            new_serial=lambda item: next(numbers),
        )
    )
    return recon, cleared, done


@dataclass
class State:
    serial_bin: dict[tuple[str, str], str | None]
    balances: dict[tuple[str, str, str], Decimal]

    @classmethod
    def of(cls, snap: Snapshot) -> State:
        serial_bin: dict[tuple[str, str], str | None] = {
            (s.item, s.serial): s.bin for s in (*snap.serials, *snap.outside_serials)
        }
        balances = {(b.item, b.bin, b.lot): b.quantity for b in snap.balances}
        return cls(serial_bin, balances)

    def apply(self, result: PostingResult) -> None:
        for e in result.serial_effects:
            key = (e.item, e.serial)
            before = self.serial_bin.get(key)
            assert before == (e.source.bin if e.source else None), (key, before, e)
            self.serial_bin[key] = e.target.bin if e.target else None
        for m in result.movements:
            if ITEMS[m.item].tracking is Tracking.SERIAL:
                continue  # a serialized item's stock is its serials
            assert isinstance(m.place, LocationSide) and m.place.bin is not None
            key = (m.item, m.place.bin, m.lot)
            self.balances[key] = self.balances.get(key, Decimal(0)) + m.quantity


@settings(max_examples=100, deadline=None)
@given(cases())
def test_documents_bring_every_adjusted_line_to_its_counted_state(case: Case) -> None:
    recon, cleared, done = run(case)
    state = State.of(case.snapshot)
    state.apply(done.adjustment_posting)
    state.apply(done.transfer_posting)
    for line in recon.lines:
        if not line.adjustable or line.id in cleared:
            continue
        key = (line.item, line.serial)
        if line.kind is LineKind.MISSING:
            assert state.serial_bin[key] is None
        elif line.kind in (LineKind.UNKNOWN, LineKind.SERIAL_TRANSFER):
            assert state.serial_bin[key] == line.bin
        elif line.kind is LineKind.GENERATED:
            here = [k for k, b in state.serial_bin.items() if k[0] == "AUTO" and b == line.bin]
            assert len(here) == line.counted_quantity
        else:
            assert line.kind is LineKind.QUANTITY_VARIANCE
            assert state.balances[(line.item, line.bin, line.lot)] == line.counted_quantity


@settings(max_examples=100, deadline=None)
@given(cases())
def test_with_nothing_cleared_every_counted_bin_ends_as_counted(case: Case) -> None:
    case.cleared_share = 0
    recon, _, done = run(case)
    if any(not x.adjustable for x in recon.lines):
        return  # conflicts leave their serials as the system has them
    state = State.of(case.snapshot)
    state.apply(done.adjustment_posting)
    state.apply(done.transfer_posting)
    for label, count in case.effective.items():
        in_bin = {k for k, b in state.serial_bin.items() if b == label and k[0] == "SER"}
        assert in_bin == set(count.serials)
        for (item, lot), quantity in count.quantities.items():
            if item != "AUTO":
                assert state.balances.get((item, label, lot), Decimal(0)) == quantity


@settings(max_examples=100, deadline=None)
@given(cases())
def test_transfers_keep_total_value(case: Case) -> None:
    _, _, done = run(case)
    transfer = done.transfer_posting
    assert sum((m.value for m in transfer.movements), Decimal(0)) == 0
    assert transfer.positions == {}  # bin to bin inside one location: value unchanged
    assert sum(gl_totals(transfer.gl_lines).values(), Decimal(0)) == 0
    # Stock Transfer Value: the sum of the actual costs of the serials transferred.
    assert done.stock_transfer.total_value == sum(
        (round_value(x.unit_cost) for x in done.stock_transfer.lines), Decimal(0)
    )


@settings(max_examples=100, deadline=None)
@given(cases())
def test_adjustment_values_add_up_to_the_gl(case: Case) -> None:
    recon, cleared, done = run(case)
    adjusted = [x for x in recon.lines if x.adjustable and x.id not in cleared]
    total = sum((x.adjustment_value for x in adjusted), Decimal(0))
    assert done.quantity_adjustment.total_value == total
    by_account: dict[str, Decimal] = {}
    for (account, _), amount in gl_totals(done.adjustment_posting.gl_lines).items():
        by_account[account] = by_account.get(account, Decimal(0)) + amount
    assert by_account.get("10150", Decimal(0)) == total
    assert by_account.get("50111", Decimal(0)) == -total


@settings(max_examples=100, deadline=None)
@given(cases())
def test_every_document_balances(case: Case) -> None:
    _, _, done = run(case)
    for posting in (done.adjustment_posting, done.transfer_posting):
        assert posting.total_debit == posting.total_credit
        assert sum((g.amount for g in posting.gl_lines), Decimal(0)) == 0


@settings(max_examples=200, deadline=None)
@given(cases())
def test_settled_serials_give_the_same_reconciliation(case: Case) -> None:
    """The `settled` contract: serials scanned in their system bin and nowhere else may
    be left out of both sides and handed over as counts (as the database's matching
    does); every line, its quantities included, stays what the whole input gives."""
    whole = reconcile(case.snapshot, case.effective)
    where: dict[tuple[str, str], list[str]] = {}
    for label, bc in case.effective.items():
        for key in bc.serials:
            where.setdefault(key, []).append(label)
    settled: dict[tuple[str, str], int] = {}
    kept: list[SnapshotSerial] = []
    for s in case.snapshot.serials:
        if where.get((s.item, s.serial)) == [s.bin]:
            settled[(s.item, s.bin)] = settled.get((s.item, s.bin), 0) + 1
        else:
            kept.append(s)
    gone = {(item, serial) for item, serial in where} - {(s.item, s.serial) for s in kept}
    gone &= {(s.item, s.serial) for s in case.snapshot.serials}
    reduced = {
        label: replace(bc, serials=bc.serials - gone) for label, bc in case.effective.items()
    }
    snapshot = replace(case.snapshot, serials=tuple(kept))
    assert reconcile(snapshot, reduced, settled=settled).lines == whole.lines
