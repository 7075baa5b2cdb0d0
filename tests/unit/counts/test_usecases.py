"""The counts' use cases over in-memory fakes (tests/unit/counts/fakes.py): create (scope
refusals), start, bin counts, recounts, cancel and finalize's decision, with no database."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.auth.ports import DeviceRecord, UserRecord
from server.counts.ports import CountsUnitOfWork
from server.counts.usecases import counting, review
from server.counts.usecases.counting import BinAssignment, NewCount
from server.domain.auth import Caller, CallerKind
from server.domain.counting import (
    CountItemFacts,
    CountStatus,
    SnapshotSerial,
    SubmittedBinCount,
    ToleranceRules,
)
from server.domain.counting.model import FINALIZE_WARNING
from server.domain.errors import Conflict, PermissionDenied, ValidationFailed
from server.domain.masterdata import Role, Tracking
from server.ports import AuditAction, FrozenBinsJudged
from tests.unit.counts.fakes import CountsState, FakeCountsUnitOfWork

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SUE = Caller(CallerKind.USER, "sue", user_id=1, role=Role.SUPERVISOR)
CARL = Caller(CallerKind.USER, "carl", user_id=2, role=Role.COUNTER)
DAN = Caller(CallerKind.USER, "dan", user_id=4, role=Role.COUNTER)


def world() -> CountsState:
    """Location MAIN: bins A-01, A-02 and B-01 (zone B); serials S1 in A-01, S2 in A-02."""
    s = CountsState()
    s.locations["MAIN"] = 7
    s.bins[7] = {"A-01": 1, "A-02": 2, "B-01": 3}
    s.zones[3] = "B"
    s.items["SER"] = CountItemFacts("SER", Tracking.SERIAL)
    s.item_ids["SER"] = 10
    for user in (
        UserRecord(1, "sue", "", Role.SUPERVISOR, True),
        UserRecord(2, "carl", "", Role.COUNTER, True),
        UserRecord(3, "gone", "", Role.COUNTER, False),
        UserRecord(4, "dan", "", Role.COUNTER, True),
    ):
        s.users[user.username] = user
    s.devices[3] = DeviceRecord(3, "hh-3", 7, "MAIN", "active", "1", T0, None, None)
    s.stock_serials[7] = [
        SnapshotSerial("SER", "S1", "A-01", Decimal("10.00")),
        SnapshotSerial("SER", "S2", "A-02", Decimal("10.00")),
    ]
    return s


def uow(state: CountsState) -> CountsUnitOfWork:
    """The fake, as the use cases see it: mypy checks it is a CountsUnitOfWork."""
    return FakeCountsUnitOfWork(state)


async def create(state: CountsState, new: NewCount | None = None) -> str:
    made = await counting.create_count(
        uow(state), SUE, new or NewCount("MAIN", "prefix", prefix="A-"), T0
    )
    return made.count.number


async def started(state: CountsState, new: NewCount | None = None) -> str:
    number = await create(state, new)
    await counting.start_count(uow(state), SUE, number, T0)
    return number


def bin_count(label: str, *serials: str, minutes: int = 1) -> SubmittedBinCount:
    return SubmittedBinCount(
        label,
        T0 + timedelta(minutes=minutes),
        T0 + timedelta(minutes=minutes + 1),
        serials=[("SER", s) for s in serials],
    )


async def record(
    state: CountsState, number: str, sub: SubmittedBinCount, who: Caller = SUE
) -> None:
    await counting.submit_bin_count(uow(state), who, number, sub, T0 + timedelta(hours=1))


# -- create ------------------------------------------------------------------------------


async def test_create_counts_the_bins_of_its_scope() -> None:
    s = world()
    number = await create(s, NewCount("MAIN", "zone", zone="B"))
    assert s.count(number).status is CountStatus.OPEN
    assert [b.label for b in s.count_bins[s.count(number).id]] == ["B-01"]


@pytest.mark.parametrize(
    ("new", "where"),
    [
        (NewCount("MAIN", "aisle"), "scope"),
        (NewCount("MAIN", "prefix", prefix=" "), "prefix"),
        (NewCount("MAIN", "bins"), "bins"),
        (NewCount("MAIN", "bins", bins=["A-01", "Z-99"]), "bins/Z-99"),
        (NewCount("MAIN", "prefix", prefix="Q-"), "scope"),
        (NewCount("ELSEWHERE", "all"), "location"),
    ],
)
async def test_create_refuses_a_scope_that_does_not_fit(new: NewCount, where: str) -> None:
    s = world()
    with pytest.raises(ValidationFailed) as refused:
        await create(s, new)
    assert where in [p.location for p in refused.value.details]
    assert s.counts == {} and s.count_bins == {}


async def test_a_refused_create_leaves_nothing_written() -> None:
    """The bins scope with an unknown bin is refused after the count's row was added in
    the transaction: leaving it without commit drops the row."""
    s = world()
    before = copy.deepcopy(s)
    fake = FakeCountsUnitOfWork(s)
    with pytest.raises(ValidationFailed):
        await counting.create_count(fake, SUE, NewCount("MAIN", "bins", bins=["A-01", "Z"]), T0)
    assert fake.commits == 0
    assert s == before


async def test_create_assigns_active_counters_and_devices_only() -> None:
    s = world()
    with pytest.raises(ValidationFailed) as refused:
        await create(
            s,
            NewCount(
                "MAIN",
                "prefix",
                prefix="A-",
                assignments=[BinAssignment("A-01", counter="gone"), BinAssignment("A-02", 9)],
            ),
        )
    assert [p.location for p in refused.value.details] == [
        "assignments/A-01/counter",
        "assignments/A-02/device_id",
    ]
    number = await create(
        s,
        NewCount(
            "MAIN",
            "prefix",
            prefix="A-",
            assignments=[BinAssignment("A-01", counter="carl"), BinAssignment("A-02", 3)],
        ),
    )
    bins = {b.label: (b.counter, b.device_id) for b in s.count_bins[s.count(number).id]}
    assert bins == {"A-01": ("carl", None), "A-02": (None, 3)}


# -- start, cancel -----------------------------------------------------------------------


async def test_start_takes_the_snapshot_and_starts_counting() -> None:
    s = world()
    number = await create(s, NewCount("MAIN", "bins", bins=["A-01"]))
    started_count = await counting.start_count(uow(s), SUE, number, T0)
    count = s.count(number)
    assert count.status is CountStatus.COUNTING and count.started_at == T0
    assert count.snapshot_token is not None and started_count.snapshot_token == count.snapshot_token
    assert [x.serial for x in s.snapshots[count.id][0]] == ["S1"]  # only the scope's bins
    assert s.event_kinds(number) == ["started"]


async def test_start_is_refused_once_counting() -> None:
    s = world()
    number = await started(s)
    token = s.count(number).snapshot_token
    with pytest.raises(Conflict) as refused:
        await counting.start_count(uow(s), SUE, number, T0)
    assert refused.value.code == "count-status"
    assert s.count(number).snapshot_token == token and s.event_kinds(number) == ["started"]


async def test_cancel_from_open_and_not_twice() -> None:
    s = world()
    number = await create(s)
    await counting.cancel_count(uow(s), SUE, number, T0)
    assert s.count(number).status is CountStatus.CANCELLED
    assert s.count(number).cancelled_at == T0
    with pytest.raises(Conflict) as refused:
        await counting.cancel_count(uow(s), SUE, number, T0)
    assert refused.value.code == "count-status"
    assert s.event_kinds(number) == ["cancelled"]
    # one audit entry, by the supervisor, of the act that happened (not of the refused one)
    assert [(a.action, a.user_id, a.count_number, a.at) for a in s.audit] == [
        (AuditAction.CANCEL, SUE.user_id, number, T0)
    ]


# -- bin counts --------------------------------------------------------------------------


async def test_a_bin_count_is_taken_while_counting() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    (stored,) = s.bin_counts.values()
    assert stored.header.bin == "A-01" and stored.header.counter == "sue"
    assert stored.serials == {("SER", "S1")}
    assert s.count(number).status is CountStatus.COUNTING  # A-02 still waits


async def test_the_last_bin_counted_makes_the_count_counted() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02", "S2"))
    assert s.count(number).status is CountStatus.COUNTED
    assert s.event_kinds(number) == ["started", "counted"]


async def test_a_lot_that_counts_the_last_bin_makes_the_count_counted_once() -> None:
    s = world()
    number = await started(s)
    lot = [bin_count("A-01", "S1"), bin_count("A-02", "S2"), bin_count("A-02", "S2", minutes=3)]
    headers = await counting.submit_bin_counts(uow(s), SUE, number, lot, T0 + timedelta(hours=1))
    assert [h.bin for h in headers] == ["A-01", "A-02", "A-02"]
    assert len({h.id for h in headers}) == 3 and len(s.bin_counts) == 3
    assert s.count(number).status is CountStatus.COUNTED
    assert s.event_kinds(number) == ["started", "counted"]


async def test_a_bin_count_is_refused_before_start_and_after_completion() -> None:
    s = world()
    number = await create(s)
    with pytest.raises(Conflict) as refused:
        await record(s, number, bin_count("A-01", "S1"))
    assert refused.value.code == "count-status"
    s.counts[number] = replace(s.count(number), status=CountStatus.COMPLETED)
    with pytest.raises(Conflict) as refused:
        await record(s, number, bin_count("A-01", "S1"))
    assert refused.value.code == "count-status"
    assert s.bin_counts == {}


async def test_a_bin_assigned_to_a_counter_is_refused_to_another() -> None:
    s = world()
    number = await started(
        s,
        NewCount(
            "MAIN", "prefix", prefix="A-", assignments=[BinAssignment("A-01", counter="carl")]
        ),
    )
    with pytest.raises(PermissionDenied):
        await record(s, number, bin_count("A-01", "S1"), DAN)
    assert s.bin_counts == {}
    await record(s, number, bin_count("A-01", "S1"), CARL)
    assert [b.header.counter for b in s.bin_counts.values()] == ["carl"]


async def test_a_bin_count_is_refused_outside_the_count_or_the_devices_site() -> None:
    s = world()
    number = await started(s)
    with pytest.raises(ValidationFailed):
        await record(s, number, bin_count("B-01"))
    elsewhere = Caller(CallerKind.DEVICE, "hh-8", device_id=8, location_id=8, location_code="WEST")
    with pytest.raises(PermissionDenied):
        await record(s, number, bin_count("A-01", "S1"), elsewhere)
    assert s.bin_counts == {}


async def test_a_conflicting_bin_count_reopens_a_counted_count() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02", "S2"))
    await record(s, number, bin_count("A-01"), CARL)  # carl finds A-01 empty: a conflict
    assert s.count(number).status is CountStatus.COUNTING
    assert s.event_kinds(number) == ["started", "counted", "reopened"]


async def test_picking_a_bin_count_resolves_the_conflict_and_the_count_is_counted() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-01"), CARL)
    await record(s, number, bin_count("A-02", "S2"))
    assert s.count(number).status is CountStatus.COUNTING  # the conflict in A-01 stays
    await counting.pick_bin_count(uow(s), SUE, number, "A-01", 1, T0)
    assert s.count(number).status is CountStatus.COUNTED
    assert s.event_kinds(number)[-2:] == ["conflict_resolved", "counted"]


async def test_counted_needs_every_bin_unless_the_supervisor_says_so() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    with pytest.raises(Conflict) as refused:
        await counting.mark_count_counted(uow(s), SUE, number, False, T0)
    assert refused.value.code == "count-incomplete"
    assert [p.location for p in refused.value.details] == ["bins/A-02"]
    assert s.count(number).status is CountStatus.COUNTING
    await counting.mark_count_counted(uow(s), SUE, number, True, T0)
    assert s.count(number).status is CountStatus.COUNTED
    assert (
        s.events[-1][2]
        == "Counted: marked by the supervisor with 1 bin(s) without an effective count"
    )


# -- recounts ----------------------------------------------------------------------------


async def test_a_recount_reopens_a_counted_count() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02", "S2"))
    await counting.order_recounts(uow(s), SUE, number, ["A-02"], "looks short", T0)
    count = s.count(number)
    assert count.status is CountStatus.COUNTING
    assert s.recounts == [(count.id, 2, 1, "looks short")]
    assert s.awaiting[(count.id, 2)] and not s.awaiting[(count.id, 1)]
    assert s.event_kinds(number)[-1] == "recount_ordered"


async def test_a_recount_names_bins_of_the_count_and_needs_counting_started() -> None:
    s = world()
    number = await create(s)
    with pytest.raises(Conflict):
        await counting.order_recounts(uow(s), SUE, number, ["A-01"], "", T0)
    await counting.start_count(uow(s), SUE, number, T0)
    version = s.count(number).version
    with pytest.raises(ValidationFailed) as refused:
        await counting.order_recounts(uow(s), SUE, number, ["A-01", "B-01"], "", T0)
    assert [p.location for p in refused.value.details] == ["bins/B-01"]
    assert s.recounts == [] and s.count(number).version == version


# -- finalize's decision -----------------------------------------------------------------


async def test_finalize_is_refused_while_open() -> None:
    s = world()
    number = await create(s)
    with pytest.raises(Conflict) as refused:
        await review.finalize(uow(s), SUE, number, True, T0)
    assert refused.value.code == "count-status"
    assert s.count(number).status is CountStatus.OPEN


async def test_finalize_while_counting_asks_to_confirm_and_changes_nothing() -> None:
    s = world()
    number = await started(s)
    before = copy.deepcopy(s)
    with pytest.raises(Conflict) as refused:
        await review.finalize(uow(s), SUE, number, False, T0)
    assert refused.value.code == "finalize-needs-confirmation"
    assert refused.value.message == FINALIZE_WARNING
    assert s == before


async def test_finalize_while_counting_with_confirmation_completes_with_the_warning() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    done = await review.finalize(uow(s), SUE, number, True, T0)
    assert done.warning == FINALIZE_WARNING
    assert list(done.not_counted_bins) == ["A-02"]
    assert s.count(number).status is CountStatus.COMPLETED
    (entry,) = s.audit
    assert (entry.action, entry.user_id, entry.count_number) == (
        AuditAction.FINALIZE,
        SUE.user_id,
        number,
    )
    assert all(d.number in entry.detail for d in done.documents)


async def test_a_finalize_refused_after_its_claim_leaves_nothing_written() -> None:
    """The claim moves the count to Completed in the transaction; the domain then refuses
    the unresolved conflict, and leaving without commit drops the claim."""
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-01"), CARL)
    before = copy.deepcopy(s)
    fake = FakeCountsUnitOfWork(s)
    with pytest.raises(Conflict) as refused:
        await review.finalize(fake, SUE, number, True, T0)
    assert [p.location for p in refused.value.details] == ["bins/A-01"]
    assert fake.commits == 0
    assert s == before


async def test_finalize_proceeds_in_counted() -> None:
    s = world()
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02", "S2"))
    done = await review.finalize(uow(s), SUE, number, False, T0)
    count = s.count(number)
    assert done.warning is None
    assert count.status is CountStatus.COMPLETED and count.completed_at == T0
    assert done.count == count
    assert [d for _, d in s.documents] == list(done.documents)
    assert [c.document_kind for _, c in s.postings] == [d.kind for d in done.documents]
    assert s.event_kinds(number)[-1] == "completed"


async def test_finalize_writes_off_a_missing_serial_within_tolerance() -> None:
    s = world()
    s.tolerances = ToleranceRules(quantity=Decimal(1))
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02"))  # S2 is not there
    done = await review.finalize(uow(s), SUE, number, False, T0)
    adjustment, transfer = done.documents
    (line,) = adjustment.lines
    assert (line.source_line_id, line.adjustment_quantity, line.adjustment_value) == (
        "missing|SER|S2|A-02",
        Decimal(-1),
        Decimal("-10.00"),
    )
    assert transfer.lines == ()
    (posted, context), _ = s.postings
    assert [(e.serial, e.target) for e in posted.serial_effects] == [("S2", None)]
    assert (context.document_number, context.frozen_bins_judged) == (
        adjustment.number,
        FrozenBinsJudged(1),
    )


async def test_finalize_refuses_a_posting_into_a_bin_another_count_freezes() -> None:
    """The frozen bins are read once, for the domain, which refuses them: the writer is
    told so (FrozenBinsJudged) and does not look again, so this refusal is the only one."""
    s = world()
    s.tolerances = ToleranceRules(quantity=Decimal(1))
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02"))  # S2 is not there: a write-off in A-02
    s.frozen_by_others = {("MAIN", "A-02"): "SC-9"}
    before = copy.deepcopy(s)
    with pytest.raises(Conflict) as refused:
        await review.finalize(uow(s), SUE, number, False, T0)
    assert refused.value.code == "bins-frozen" and "SC-9" in refused.value.message
    assert s == before


async def test_finalize_refuses_a_discrepancy_that_needs_approval() -> None:
    s = world()  # no tolerances: every discrepancy needs approval
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02"))
    before = copy.deepcopy(s)
    with pytest.raises(Conflict) as refused:
        await review.finalize(uow(s), SUE, number, False, T0)
    assert refused.value.code == "approval-required"
    assert [p.location for p in refused.value.details] == ["lines/missing|SER|S2|A-02"]
    assert s == before


async def test_the_profile_rows_say_which_lines_need_approval() -> None:
    s = world()  # no tolerances: every adjustable discrepancy needs approval
    number = await started(s)
    await record(s, number, bin_count("A-01", "S1"))
    await record(s, number, bin_count("A-02"))
    found = await review.reviewed_rows(uow(s), number, offset=0, limit=10)
    [row] = found.rows
    assert [(x.line.id, x.needs_approval) for x in row.lines] == [("missing|SER|S2|A-02", True)]
    assert row.needs_approval
    above = await review.reviewed_rows(uow(s), number, above_tolerance=True, offset=0, limit=10)
    assert [r.lines[0].line.id for r in above.rows] == ["missing|SER|S2|A-02"]
    # One process (one reconciliation cache): the tolerances change, the count does not
    same = uow(s)
    [row] = (await review.reviewed_rows(same, number, offset=0, limit=10)).rows
    assert row.needs_approval
    s.tolerances = ToleranceRules(quantity=Decimal(1))  # one unit missing: within it
    [row] = (await review.reviewed_rows(same, number, offset=0, limit=10)).rows
    assert not row.lines[0].needs_approval and not row.needs_approval
