"""The journal form's mapping (server/web/journal_form.py): posted fields to a draft and
back, defaults asked for by empty fields, "No GL" blanking, refusals at their fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from server.domain.errors import FieldProblem
from server.domain.journal import BillingRate, TransactionType
from server.web.journal_form import field_name, place_problems, read_form, write_form

D = Decimal
POSTED = {
    "_csrf_token": "t",
    "effective_date": "2025-03-14",
    "transaction_type": "loc_to_job",
    "description": " to the job ",
    "l1-item": "123106",
    "l1-quantity": "1,000.5",
    "l1-from-location": "Main",
    "l1-from-bin": "A-01",
    "l1-from-no_gl": "yes",
    "l1-to-job": "J1",
    "l1-to-cost_code": "100",
    "l1-to-cost_category": "MAT",
    "l1-to-billing_rate": "markup",
    "l1-to-quantity_billable": "2",
    "l1-2-nothing": "",
    "l2-item": "",
    "l2-quantity": "",
}


def test_posted_fields_make_the_draft_empty_fields_ask_for_defaults() -> None:
    form, draft = read_form(POSTED)
    assert form.errors == {} and draft is not None
    assert (draft.effective_date, draft.transaction_type) == (
        date(2025, 3, 14),
        TransactionType.LOC_TO_JOB,
    )
    assert draft.period is None and draft.description == "to the job"
    [line] = draft.lines  # line 2 is empty: not a line
    assert (line.item, line.quantity, line.unit_cost) == ("123106", D("1000.5"), None)
    # "No GL on this side" blanks (""), an empty GL field asks for the default (None).
    assert (line.from_side.gl_account, line.from_side.gl_entity) == ("", "")
    assert line.to_side is not None and line.to_side.gl_account is None
    assert line.to_side.billing.billing_rate is BillingRate.MARKUP
    assert line.to_side.billing.quantity_billable == D(2)
    assert "_csrf_token" not in form.values


def test_a_draft_written_to_the_form_reads_back_the_same() -> None:
    _, draft = read_form(POSTED)
    assert draft is not None
    again = read_form(write_form(draft).values)[1]
    assert again == draft


def test_unreadable_fields_are_refused_at_their_field_with_no_draft() -> None:
    form, draft = read_form(
        {**POSTED, "l1-quantity": "lots", "effective_date": "14/03/2025", "transaction_type": ""}
    )
    assert draft is None
    assert form.errors["l1-quantity"] == "'lots' is not a number"
    assert "YYYY-MM-DD" in form.errors["effective_date"]
    assert form.errors["transaction_type"] == "choose the transaction type"


def test_the_rules_field_paths_become_the_forms_field_names() -> None:
    assert field_name("lines/2/from_side/gl_account") == "l2-from-gl_account"
    assert field_name("lines/1/to_side/billing/unit_price") == "l1-to-unit_price"
    assert field_name("lines/3/to_side") == "l3-to-location"
    assert field_name("lines/1/quantity") == "l1-quantity"
    assert field_name("period") == "period"
    assert field_name("lines") == ""
    form, _ = read_form(POSTED)
    place_problems(
        form,
        [FieldProblem("lines/1/item", "no item 123106"), FieldProblem("lines", "too many")],
    )
    assert form.errors == {"l1-item": "no item 123106"}
    assert form.general == ["lines: too many"]
