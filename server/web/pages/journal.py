"""The Inventory Adjustment Journal (seed 004): the transaction list with filters, a
transaction's page (Main: header and lines with their full view; the GLH tab; job
history; reverse), the new-transaction form with its defaults from the server, and the
Fill Lines wizards, whose drafts open in that form to review and save.

The same use cases and rights as `/api/journal`: users who read the books (counters,
supervisors, finance) read; supervisors (and admins) save, reverse and run the wizards.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import decode_cursor
from server.api.state import AnyRequest
from server.domain.errors import Conflict, NotFound, ValidationFailed
from server.domain.journal import JournalTransaction, TransactionType
from server.domain.masterdata import Role
from server.domain.money import ZERO
from server.journal.ports import TransactionFilters
from server.journal.usecases import journal
from server.journal.usecases.drafts import fill_defaults
from server.web import journal_form as forms
from server.web.responses import page, see_other
from server.web.session import BOOKS, SUPERVISE, allowed

PAGE = 50  # transactions on a page of the list
TYPES = [(t.value, forms.TYPE_NAMES[t]) for t in TransactionType]
BILLING_RATES = [("", "Default"), ("unit_price", "Unit price"), ("markup", "Markup")]


def _day(text: str | None, name: str, problems: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems[name] = "give the date as YYYY-MM-DD"
        return None


def _form_page(
    request: AnyRequest,
    form: forms.JournalForm,
    status_code: int = 200,
    warnings: tuple[Any, ...] = (),
    notice: str | None = None,
) -> Template:
    return page(
        request,
        "journal/new.html",
        status_code=status_code,
        form=form,
        types=TYPES,
        billing_rates=BILLING_RATES,
        sides=(("from", "From/Adjust"), ("to", "To")),
        place_fields=forms.PLACE_FIELDS,
        warnings=warnings,
        form_notice=notice,
    )


class JournalPages(Controller):
    path = "/journal"

    @get("/", guards=BOOKS)
    async def list_transactions(
        self,
        request: AnyRequest,
        uow: Uow,
        caller: CurrentCaller,
        period: FromQuery[str | None] = None,
        transaction_type: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        problems: dict[str, str] = {}
        kind = transaction_type or None
        if kind is not None and kind not in {t.value for t in TransactionType}:
            problems["transaction_type"] = "choose a transaction type from the list"
            kind = None
        since = _day(date_from, "date_from", problems)
        until = _day(date_to, "date_to", problems)
        rows: list[Any] = []
        if not problems:
            filters = TransactionFilters(period or None, kind, item or None, since, until)
            rows = list(await journal.list_transactions(uow, decode_cursor(after), PAGE, filters))
        query = {
            "period": period or "",
            "transaction_type": transaction_type or "",
            "item": item or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
        }
        return page(
            request,
            "journal/list.html",
            rows=rows,
            query=query,
            problems=problems,
            types=TYPES,
            type_name=lambda t: forms.TYPE_NAMES.get(TransactionType(t), t),
            next_after=str(rows[-1].id) if len(rows) == PAGE else None,
            write=allowed(caller, {Role.SUPERVISOR}),
        )

    @get("/new", guards=SUPERVISE)
    async def new_form(self, request: AnyRequest, now: Now) -> Template:
        form = forms.JournalForm(
            values={"effective_date": now.date().isoformat(), "transaction_type": "adjustment"}
        )
        form.lines = forms.line_numbers(form.values)
        return _form_page(request, form)

    @post("/new", guards=SUPERVISE)
    async def submit(
        self, request: AnyRequest, uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        """One form, three buttons: Fill defaults, Add line, Save transaction."""
        posted = await request.form()
        values = {str(k): str(v) for k, v in posted.items()}
        action = values.pop("action", "defaults")
        form, draft = forms.read_form(values)
        if action == "add":
            form.lines.append(len(form.lines) + 1)
            return _form_page(request, form)
        if draft is None:
            return _form_page(request, form, 422)
        if action != "save":
            return await self._defaults(request, uow, form, draft)
        assert caller.user_id is not None  # SUPERVISE admits users only
        try:
            saved = await journal.save_transaction(uow, draft, caller.user_id, caller.name, now)
        except ValidationFailed as refused:
            forms.place_problems(form, refused.details)
            if not refused.details:
                form.general.append(refused.message)
            return _form_page(request, form, 422)
        except (Conflict, NotFound) as refused:
            form.general.append(str(refused))
            return _form_page(request, form, 409 if isinstance(refused, Conflict) else 404)
        number = saved.transaction.transaction_id or ""
        warned = "; ".join(w.message for w in saved.warnings)
        done = f"Transaction {number} saved." + (f" Warnings: {warned}" if warned else "")
        return see_other(f"/journal/{number}", notice=done)

    async def _defaults(
        self, request: AnyRequest, uow: Any, form: forms.JournalForm, draft: JournalTransaction
    ) -> Template:
        filled = await fill_defaults(uow, draft)
        shown = forms.write_form(filled.transaction, filled.on_hand)
        shown.lines = sorted({*shown.lines, *form.lines})
        forms.place_problems(shown, filled.problems)
        status = 422 if filled.problems else 200
        notice = None if filled.problems else "Defaults filled in: check them, then save."
        return _form_page(request, shown, status, filled.warnings, notice)

    @get("/wizards", guards=SUPERVISE)
    async def wizards(self, request: AnyRequest, now: Now) -> Template:
        return page(
            request,
            "journal/wizards.html",
            values={"effective_date": now.date().isoformat()},
            errors={},
        )

    @post("/wizards/{kind:str}", guards=SUPERVISE)
    async def run_wizard(self, request: AnyRequest, kind: FromPath[str], uow: Uow) -> Template:
        """A Fill Lines wizard's draft, opened in the form: nothing is saved until Save."""
        posted = await request.form()
        values = {str(k): str(v).strip() for k, v in posted.items() if not str(k).startswith("_")}
        errors: dict[str, str] = {}
        day = _day(values.get("effective_date"), f"{kind}-effective_date", errors)
        if day is None and not errors:
            errors[f"{kind}-effective_date"] = "give the effective date"
        wanted = {
            "return-to-location": ("job", "location", "bin"),
            "location-to-location": ("source", "target", "target_bin"),
        }
        if kind not in wanted:
            raise NotFound(f"no Fill Lines wizard {kind!r}")
        for name in wanted[kind]:
            if not values.get(name):
                errors[f"{kind}-{name}"] = "required"
        draft: JournalTransaction | None = None
        if not errors and day is not None:
            try:
                if kind == "return-to-location":
                    draft = await journal.fill_return_to_location(
                        uow,
                        values["job"],
                        values["location"],
                        values["bin"],
                        day,
                        values.get("work_order") or None,
                    )
                else:
                    draft = await journal.fill_location_to_location(
                        uow, values["source"], values["target"], values["target_bin"], day
                    )
            except (ValidationFailed, NotFound) as refused:
                where = refused.details[0].location if refused.details else ""
                errors[f"{kind}-{where or wanted[kind][0]}"] = str(refused)
        if draft is None or not draft.lines:
            if draft is not None:
                errors[f"{kind}-{wanted[kind][0]}"] = "nothing to move: the wizard found no stock"
            return page(
                request, "journal/wizards.html", status_code=422, values=values, errors=errors
            )
        form = forms.write_form(draft)
        return _form_page(
            request,
            form,
            notice=f"The wizard filled {len(draft.lines)} line(s): review them, change what "
            "you need, then save the transaction.",
        )

    @get("/{number:str}", guards=BOOKS)
    async def transaction(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Template:
        view = await journal.get_transaction(uow, number)
        return page(
            request,
            "journal/transaction.html",
            view=view,
            tx=view.stored.transaction,
            type_name=forms.TYPE_NAMES,
            total_debit=sum((g.amount for g in view.gl if g.amount > 0), ZERO),
            total_credit=-sum((g.amount for g in view.gl if g.amount < 0), ZERO),
            plain=forms.plain,
            write=allowed(caller, {Role.SUPERVISOR}),
            today=now.date().isoformat(),
        )

    @post("/{number:str}/reverse", guards=SUPERVISE)
    async def reverse(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        posted = await request.form()
        back = f"/journal/{number}"
        try:
            day = date.fromisoformat(str(posted.get("effective_date") or "").strip())
        except ValueError:
            return see_other(back, error="give the reversal's effective date as YYYY-MM-DD")
        assert caller.user_id is not None
        try:
            saved = await journal.reverse_transaction(
                uow,
                number,
                day,
                caller.user_id,
                caller.name,
                now,
                str(posted.get("period") or "").strip() or None,
                str(posted.get("description") or "").strip() or None,
            )
        except (ValidationFailed, Conflict) as refused:
            return see_other(back, error=str(refused))
        reversal = saved.transaction.transaction_id or ""
        return see_other(f"/journal/{reversal}", notice=f"Transaction {number} reversed.")
