"""The Inventory Adjustment Journal over HTTP (seed 004).

    POST /api/journal/transactions                      save (supervisor, admin): 201
    GET  /api/journal/transactions/{id}                 the saved transaction (any user)
    GET  /api/journal/transactions/{id}/gl              its GL history: the seed's GLH tab
    GET  /api/journal/transactions/{id}/job-history     its job history (JCH)
    POST /api/journal/transactions/{id}/reverse         save the opposite transaction: 201
    GET  /api/journal/transactions?period=&transaction_type=&item=&date_from=&date_to=
                                                        list (keyset pages: limit, cursor)
    POST /api/journal/wizards/return-to-location        Fill Lines Job-to-Loc: a draft
    POST /api/journal/wizards/location-to-location      Fill Lines Loc-to-Loc: a draft
    GET  /api/journal/settings                          the registry settings (any user)
    PATCH /api/journal/settings                         change some (supervisor, admin)

Transactions are never edited or deleted (no PUT, PATCH or DELETE: 405); a correction is
a new transaction, or the reversal. Refusals are problem details: 422 for the journal's
rules (each field named), 409 for bins frozen by a count in process ("bins-frozen") and a
second reversal ("already-reversed"), 404 for an unknown transaction id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET

from schemas import journal as wire
from schemas.common import FieldProblem
from server.api.deps import CurrentCaller, Now
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.wire import READ, WRITE, plain
from server.domain import journal as domain
from server.domain.money import ZERO
from server.journal.http.deps import Uow
from server.journal.ports import StoredTransaction, TransactionFilters
from server.journal.usecases import journal

_RATES: dict[str, wire.BillingRate] = {"unit_price": "unit_price", "markup": "markup"}


def _dec(value: Decimal | None) -> Decimal | None:
    return None if value is None else plain(value)


def _billing_in(billing: wire.JobBilling | None) -> domain.JobBilling:
    if billing is None:
        return domain.JobBilling()
    return domain.JobBilling(
        quantity_billable=billing.quantity_billable,
        extra=billing.extra,
        billing_rate=domain.BillingRate(billing.billing_rate) if billing.billing_rate else None,
        revenue_rate=billing.revenue_rate,
        unit_price=billing.unit_price,
        amount_revenue=billing.amount_revenue,
        use_tax_rate=billing.use_tax_rate,
    )


def _side_in(side: wire.JournalSide) -> domain.JournalSide:
    return domain.JournalSide(
        location=side.location.strip(),
        bin=side.bin,
        job=side.job.strip(),
        cost_code=side.cost_code.strip(),
        bill_item=side.bill_item.strip(),
        cost_category=side.cost_category.strip(),
        work_order=side.work_order.strip(),
        equipment=side.equipment.strip(),
        gl_account=side.gl_account,
        gl_entity=side.gl_entity,
        billing=_billing_in(side.billing),
    )


def transaction_in(data: wire.JournalTransactionCreate) -> domain.JournalTransaction:
    lines = tuple(
        domain.JournalLine(
            line_no=x.line_no,
            item=x.item,
            quantity=x.quantity,
            from_side=_side_in(x.from_side),
            to_side=_side_in(x.to_side) if x.to_side is not None else None,
            serial=x.serial.strip(),
            lot=x.lot.strip(),
            unit_cost=x.unit_cost,
            burden_unit_cost=x.burden_unit_cost,
            origin=domain.LineOrigin(x.origin),
        )
        for x in data.lines
    )
    return domain.JournalTransaction(
        effective_date=data.effective_date,
        transaction_type=domain.TransactionType(data.transaction_type),
        lines=lines,
        period=data.period or None,
        description=data.description.strip(),
    )


def _side_out(side: domain.JournalSide, draft: bool = False) -> wire.JournalSide:
    """A side as read back; `draft`: as a draft to save, where None asks for the default."""
    billing = None
    if side.has_job_fields:
        b = side.billing
        billing = wire.JobBilling(
            quantity_billable=_dec(b.quantity_billable),
            extra=b.extra,
            billing_rate=b.billing_rate.value if b.billing_rate else None,
            revenue_rate=_dec(b.revenue_rate),
            unit_price=_dec(b.unit_price),
            amount_revenue=b.amount_revenue,
            use_tax_rate=_dec(b.use_tax_rate),
        )
    return wire.JournalSide(
        location=side.location,
        bin=side.bin,
        job=side.job,
        cost_code=side.cost_code,
        bill_item=side.bill_item,
        cost_category=side.cost_category,
        work_order=side.work_order,
        equipment=side.equipment,
        gl_account=side.gl_account if draft else side.gl_account or "",
        gl_entity=side.gl_entity if draft else side.gl_entity or "",
        billing=billing,
    )


def transaction_out(
    tx: domain.JournalTransaction,
    warnings: tuple[domain.JournalWarning, ...] = (),
    reverses: str | None = None,
    reversed_by: str | None = None,
) -> wire.JournalTransaction:
    assert tx.transaction_id is not None and tx.user_id is not None
    assert tx.date_posted is not None
    return wire.JournalTransaction(
        transaction_id=tx.transaction_id,
        period=tx.period,
        effective_date=tx.effective_date,
        description=tx.description,
        transaction_type=tx.transaction_type.value,
        user_id=tx.user_id,
        date_posted=tx.date_posted,
        reverses=reverses,
        reversed_by=reversed_by,
        lines=[
            wire.JournalLine(
                line_no=x.line_no,
                item=x.item,
                quantity=plain(x.quantity),
                unit_cost=plain(x.unit_cost if x.unit_cost is not None else ZERO),
                uom=x.uom or "",
                burden_unit_cost=plain(x.burden_unit_cost or ZERO),
                serial=x.serial,
                lot=x.lot,
                origin=x.origin.value,
                from_side=_side_out(x.from_side),
                to_side=_side_out(x.to_side) if x.to_side is not None else None,
            )
            for x in tx.lines
        ],
        warnings=[FieldProblem(location=w.location, message=w.message) for w in warnings],
    )


def draft_out(tx: domain.JournalTransaction) -> wire.JournalTransactionCreate:
    """A Fill Lines draft as the client saves it back (POST /api/journal/transactions)."""
    return wire.JournalTransactionCreate(
        effective_date=tx.effective_date,
        transaction_type=tx.transaction_type.value,
        period=tx.period,
        description=tx.description,
        lines=[
            wire.JournalLineCreate(
                line_no=x.line_no,
                item=x.item,
                quantity=plain(x.quantity),
                from_side=_side_out(x.from_side, draft=True),
                to_side=_side_out(x.to_side, draft=True) if x.to_side is not None else None,
                serial=x.serial,
                lot=x.lot,
                unit_cost=_dec(x.unit_cost),
                origin=x.origin.value,
                burden_unit_cost=_dec(x.burden_unit_cost),
            )
            for x in tx.lines
        ],
    )


def _stored_out(stored: StoredTransaction) -> wire.JournalTransaction:
    return transaction_out(
        stored.transaction, reverses=stored.reverses, reversed_by=stored.reversed_by
    )


class JournalController(Controller):
    path = "/api/journal/transactions"
    tags = ["inventory adjustment journal"]

    @post("/", guards=WRITE)
    async def save_transaction(
        self,
        data: JSONBody[wire.JournalTransactionCreate],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.JournalTransaction:
        """Validate, default and post a transaction; its Transaction Id is made on save."""
        assert caller.user_id is not None  # WRITE admits users only
        saved = await journal.save_transaction(
            uow, transaction_in(data), caller.user_id, caller.name, now
        )
        return transaction_out(saved.transaction, saved.warnings)

    @get("/", guards=READ)
    async def list_transactions(
        self,
        uow: Uow,
        period: FromQuery[str | None] = None,
        transaction_type: FromQuery[wire.TransactionType | None] = None,
        item: FromQuery[str | None] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> wire.TransactionPage:
        """Saved transactions, oldest first, by period, type, item and effective date."""
        limit = check_limit(limit)
        filters = TransactionFilters(period, transaction_type, item, date_from, date_to)
        rows = await journal.list_transactions(uow, decode_cursor(cursor), limit, filters)
        return wire.TransactionPage(
            items=[
                wire.TransactionSummary(
                    transaction_id=r.number,
                    effective_date=r.effective_date,
                    transaction_type=r.transaction_type.value,
                    user_id=r.user,
                    date_posted=r.date_posted,
                    line_count=r.line_count,
                    period=r.period,
                    description=r.description,
                    reverses=r.reverses,
                )
                for r in rows
            ],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )

    @get("/{transaction_id:str}", guards=READ)
    async def get_transaction(
        self, transaction_id: FromPath[str], uow: Uow
    ) -> wire.JournalTransaction:
        view = await journal.get_transaction(uow, transaction_id)
        return _stored_out(view.stored)

    @get("/{transaction_id:str}/gl", guards=READ)
    async def gl_history(self, transaction_id: FromPath[str], uow: Uow) -> wire.GlHistory:
        """The GL postings of the transaction (the seed's GLH tab)."""
        view = await journal.get_transaction(uow, transaction_id)
        lines = [
            wire.GlHistoryLine(
                account=g.account,
                account_name=g.account_name,
                entity=g.entity,
                period=g.period,
                company=g.company,
                intercompany=g.intercompany,
                journal=g.journal,
                transaction_id=g.transaction_id,
                date=g.date,
                line_no=g.line_no,
                debit=g.amount if g.amount > ZERO else ZERO,
                credit=-g.amount if g.amount < ZERO else ZERO,
            )
            for g in view.gl
        ]
        return wire.GlHistory(
            transaction_id=transaction_id,
            count=len(lines),
            total_debit=sum((x.debit for x in lines), ZERO),
            total_credit=sum((x.credit for x in lines), ZERO),
            lines=lines,
        )

    @get("/{transaction_id:str}/job-history", guards=READ)
    async def job_history(self, transaction_id: FromPath[str], uow: Uow) -> wire.JobHistory:
        view = await journal.get_transaction(uow, transaction_id)
        return wire.JobHistory(
            transaction_id=transaction_id,
            lines=[
                wire.JobHistoryLine(
                    line_no=h.line_no,
                    side="from" if h.side == "from" else "to",
                    job=h.job,
                    cost_code=h.cost_code,
                    cost_category=h.cost_category,
                    work_order=h.work_order,
                    equipment=h.equipment,
                    item=h.item,
                    quantity=plain(h.quantity),
                    quantity_billable=plain(h.quantity_billable),
                    unit_cost=plain(h.unit_cost),
                    burden=h.burden,
                    use_tax=h.use_tax,
                    material_cost=h.material_cost,
                    billing_rate=_RATES.get(h.billing_rate or ""),
                    unit_price=plain(h.unit_price),
                    amount_revenue=h.amount_revenue,
                    extra=h.extra,
                )
                for h in view.job_history
            ],
        )

    @post("/{transaction_id:str}/reverse", guards=WRITE)
    async def reverse_transaction(
        self,
        transaction_id: FromPath[str],
        data: JSONBody[wire.JournalReverse],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.JournalTransaction:
        """Save the opposite transaction (no edits: a correction is a new transaction)."""
        assert caller.user_id is not None
        saved = await journal.reverse_transaction(
            uow,
            transaction_id,
            data.effective_date,
            caller.user_id,
            caller.name,
            now,
            data.period or None,
            data.description,
        )
        return transaction_out(saved.transaction, saved.warnings, reverses=transaction_id)


class JournalWizardController(Controller):
    """The Fill Lines wizards: each answers a draft (nothing is saved) that the client
    reviews, changes and saves with POST /api/journal/transactions."""

    path = "/api/journal/wizards"
    tags = ["inventory adjustment journal"]

    @post("/return-to-location", guards=WRITE, status_code=200)
    async def return_to_location(
        self, data: JSONBody[wire.ReturnToLocation], uow: Uow
    ) -> wire.JournalTransactionCreate:
        """Job-to-Loc: what is still on the job (or work order) back to a bin, at the
        job history's costs and revenue, so that saving it undoes the original exactly."""
        draft = await journal.fill_return_to_location(
            uow, data.job, data.location, data.bin, data.effective_date, data.work_order
        )
        return draft_out(draft)

    @post("/location-to-location", guards=WRITE, status_code=200)
    async def location_to_location(
        self, data: JSONBody[wire.MoveLocation], uow: Uow
    ) -> wire.JournalTransactionCreate:
        """Loc-to-Loc: all stock of one location into a bin of another."""
        draft = await journal.fill_location_to_location(
            uow, data.source, data.target, data.target_bin, data.effective_date
        )
        return draft_out(draft)


def _settings_out(settings: domain.JournalSettings) -> wire.JournalSettings:
    return wire.JournalSettings(
        serialized_additions_allowed=settings.serialized_additions_allowed,
        wizard_defaults_quantity_billable=settings.wizard_defaults_quantity_billable,
        burden_income_account=settings.burden_income_account,
        use_tax_liability_account=settings.use_tax_liability_account,
    )


class JournalSettingsController(Controller):
    """The journal's registry settings: read them, or change some and keep the rest."""

    path = "/api/journal/settings"
    tags = ["inventory adjustment journal"]

    @get("/", guards=READ)
    async def get_settings(self, uow: Uow) -> wire.JournalSettings:
        return _settings_out(await journal.get_settings(uow))

    @patch("/", guards=WRITE)
    async def change_settings(
        self, data: JSONBody[wire.JournalSettingsChange], uow: Uow
    ) -> wire.JournalSettings:
        """Change the settings given (one or more); those left out stay as they are."""
        changes = {
            f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET
        }
        return _settings_out(await journal.update_settings(uow, changes))
