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

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas import journal as wire
from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.wire import READ, READ_BOOKS, WRITE
from server.journal.http import wire as mapping
from server.journal.ports import TransactionFilters
from server.journal.usecases import journal


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
            uow, mapping.transaction_in(data), caller.user_id, caller.name, now
        )
        return mapping.transaction_out(saved.transaction, saved.warnings)

    @get("/", guards=READ_BOOKS)
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
            items=[mapping.summary_out(r) for r in rows],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )

    @get("/{transaction_id:str}", guards=READ_BOOKS)
    async def get_transaction(
        self, transaction_id: FromPath[str], uow: Uow
    ) -> wire.JournalTransaction:
        view = await journal.get_transaction(uow, transaction_id)
        return mapping.stored_out(view.stored)

    @get("/{transaction_id:str}/gl", guards=READ_BOOKS)
    async def gl_history(self, transaction_id: FromPath[str], uow: Uow) -> wire.GlHistory:
        """The GL postings of the transaction (the seed's GLH tab)."""
        view = await journal.get_transaction(uow, transaction_id)
        return mapping.gl_history_out(transaction_id, view.gl)

    @get("/{transaction_id:str}/job-history", guards=READ_BOOKS)
    async def job_history(self, transaction_id: FromPath[str], uow: Uow) -> wire.JobHistory:
        view = await journal.get_transaction(uow, transaction_id)
        return mapping.job_history_out(transaction_id, view.job_history)

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
        return mapping.transaction_out(saved.transaction, saved.warnings, reverses=transaction_id)


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
        return mapping.draft_out(draft)

    @post("/location-to-location", guards=WRITE, status_code=200)
    async def location_to_location(
        self, data: JSONBody[wire.MoveLocation], uow: Uow
    ) -> wire.JournalTransactionCreate:
        """Loc-to-Loc: all stock of one location into a bin of another."""
        draft = await journal.fill_location_to_location(
            uow, data.source, data.target, data.target_bin, data.effective_date
        )
        return mapping.draft_out(draft)


class JournalSettingsController(Controller):
    """The journal's registry settings: read them, or change some and keep the rest."""

    path = "/api/journal/settings"
    tags = ["inventory adjustment journal"]

    @get("/", guards=READ)
    async def get_settings(self, uow: Uow) -> wire.JournalSettings:
        return mapping.settings_out(await journal.get_settings(uow))

    @patch("/", guards=WRITE)
    async def change_settings(
        self, data: JSONBody[wire.JournalSettingsChange], uow: Uow
    ) -> wire.JournalSettings:
        """Change the settings given (one or more); those left out stay as they are."""
        changes = mapping.settings_changes(data)
        return mapping.settings_out(await journal.update_settings(uow, changes))
