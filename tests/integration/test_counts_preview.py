"""The preview, paged and totalled, is what finalize then writes; and the process's drafts
never show a figure finalize would not post now. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from server.bootstrap import open_runtime
from server.counts.usecases import preview as count_preview
from server.counts.usecases import review as count_review
from server.db.engine import make_engine
from server.domain.auth import Caller, CallerKind
from server.domain.counting import CountDocument, profile_lines
from server.domain.errors import StockcountError
from server.domain.masterdata import Role
from server.domain.posting import gl_totals
from server.web.pages import review as review_pages
from tests.helpers import PASSWORD, scalar
from tests.integration.counts_setup import (
    Client,
    bin_count,
    count_the_scenario,
    create_count,
    generous_tolerances,
    headers,
    lines,
    rows,
    seed,
    start,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _lines(document: CountDocument) -> list[Any]:
    return [(x.line_no, x.source_line_id, x.item, x.bin, x.from_bin, x.lot, x.serial,
             x.generate_serials, x.adjustment_quantity, x.stock_transfer_quantity,
             x.adjustment_cost, x.adjustment_value, x.stock_transfer_value)
            for x in document.lines]  # fmt: skip


async def _supervisor(database_url: str) -> Caller:
    user_id = await scalar(database_url, "SELECT id FROM app_user WHERE username = 'super'")
    return Caller(CallerKind.USER, "super", user_id=int(user_id), role=Role.SUPERVISOR)


async def test_the_paged_preview_and_its_totals_are_what_finalize_writes(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    # the use cases in this test's own runtime (the test client serves the app in a loop
    # of its own, where PostgreSQL connections cannot be shared)
    async with open_runtime(database_url) as runtime:
        await _drafts_and_finalize(database_url, runtime.uow, number)


async def _drafts_and_finalize(database_url: str, uow: Any, number: str) -> None:
    # every page of 2 lines of each document, as the preview page reads them
    shown: dict[str, list[Any]] = {}
    gl: dict[str, list[Any]] = {}
    whole: dict[str, tuple[int, Decimal, list[Any]]] = {}
    for kind in ("quantity_adjustment", "stock_transfer"):
        offset = 0
        while True:
            page = await count_preview.preview_page(uow(), number, NOW, {kind: offset}, 2)
            (this,) = [d for d in page.documents if d.document.kind == kind]
            shown.setdefault(kind, []).extend(_lines(replace_lines(this.document, this.lines)))
            gl.setdefault(kind, []).extend(this.gl_lines)
            whole[kind] = (this.line_count, this.document.total_value, list(this.gl_totals))
            assert len(this.lines) <= 2
            offset += len(this.lines)
            if offset >= this.line_count:
                break
    totals = await count_preview.preview_totals(uow(), number)

    done = await count_review.finalize(
        uow(), await _supervisor(database_url), number, True, datetime.now(UTC)
    )
    assert [d.kind for d in done.documents] == ["quantity_adjustment", "stock_transfer"]
    assert [len(d.lines) for d in done.documents] == [5, 2]  # more than one page each
    for posted, total in zip(done.documents, totals, strict=True):
        assert shown[posted.kind] == _lines(posted)
        assert gl[posted.kind] == list(posted.gl_lines)
        count, value, netted = whole[posted.kind]
        assert (count, value) == (len(posted.lines), posted.total_value)
        assert (total.kind, total.lines, total.total_value) == (
            posted.kind, len(posted.lines), posted.total_value,
        )  # fmt: skip
        assert {(g.account, g.entity): g.amount for g in netted} == {
            k: v for k, v in gl_totals(posted.gl_lines).items() if v
        }
    # and what was written is what finalize answered
    stored = await count_review.documents_of(uow(), number)
    assert [_lines(d) for d in stored] == [_lines(d) for d in done.documents]
    assert [d.total_value for d in stored] == [Decimal("13.00"), Decimal("250.00")]


def replace_lines(document: CountDocument, shown: Any) -> CountDocument:
    return replace(document, lines=tuple(shown))


async def _signed_in(client: Client) -> None:
    form = await client.get("/signin")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = await client.post(
        "/signin",
        data={"username": "super", "password": PASSWORD, "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


async def test_the_preview_page_pages_each_document_under_its_totals(
    database_url: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    await _signed_in(client)
    monkeypatch.setattr(review_pages, "DRAFT_LINES", 2)

    first = await client.get(f"/counts/{number}/preview")
    assert first.status_code == 200, first.text
    assert "Lines 1-2 of 5." in first.text and "Lines 1-2 of 2." in first.text
    assert "13.00" in first.text and "250.00" in first.text  # the whole documents' values
    assert "-110.00" not in first.text  # SER's write-off is the 4th line: not on this page
    following = re.search(r'href="(/counts/[^"]+/preview\?[^"]+)">Next lines', first.text)
    assert following, first.text
    second = await client.get(following.group(1).replace("&amp;", "&"))
    assert "Lines 3-4 of 5." in second.text and "Lines 1-2 of 2." in second.text
    assert "-110.00" in second.text and "Previous lines" in second.text

    review = await client.get(f"/counts/{number}/review")
    assert review.status_code == 200, review.text
    totals = review.text.split("Totals finalize will post")[1].split("</table>")[0]
    assert re.search(r"Quantity Adjustment</td><td class=\"num\">5</td>.*13\.00", totals)
    assert re.search(r"Stock Transfer</td><td class=\"num\">2</td>.*250\.00", totals)

    bad = await client.get(f"/counts/{number}/preview?stock_transfer=x")
    assert bad.status_code == 422 and "cursor" in bad.text


async def _preview(client: Client, h: dict[str, str], number: str, uow: Any = None) -> Any:
    """The API's preview; with `uow`, the review page's totals are held equal to it (its
    summary, or the code of its refusal)."""
    answer = await client.get(f"/api/counts/{number}/preview", headers=h)
    status, body = answer.status_code, answer.json()
    if uow is not None:
        ours = await _review_totals(uow, number)
        assert ours == (_summary(body) if status == 200 else body["code"]), (ours, body)
        assert await _paged_as_drafted(uow, number) == ours
    return status, body


async def _whole_draft(uow: Any, number: str) -> Any:
    """The documents drafted whole (`draft_documents`) from the facts now, or their
    refusal: what the lines' drafts are held equal to."""
    _, _, drafted = await count_preview._drafted(uow(), number)
    drafted.raise_refusal()
    return drafted.documents


async def _paged_as_drafted(uow: Any, number: str) -> Any:
    """The preview page (made from the lines' drafts) read page by page, 2 lines at a
    time, and the API's preview (made from them too) are the whole draft: every line as
    numbered, the GL lines of each, the lines, value and GL per account and entity of
    each document; or the whole draft's refusal (code, message and problems). Answers
    the documents' summary, or the code."""
    refused: StockcountError | None = None
    try:
        documents = await _whole_draft(uow, number)
    except StockcountError as exc:
        refused = exc
    if refused is not None:
        for made in (
            count_preview.preview_page(uow(), number, NOW, {}, 2),
            count_preview.preview(uow(), number, NOW),
        ):
            with pytest.raises(StockcountError) as paged:
                await made
            ours = paged.value
            assert (ours.code, ours.message, ours.details) == (
                refused.code, refused.message, refused.details,
            )  # fmt: skip
        return refused.code
    answered = (await count_preview.preview(uow(), number, NOW)).documents
    assert [(d.kind, d.number, d.total_value, _lines(d), d.gl_lines) for d in answered] == [
        (d.kind, d.number, d.total_value, _lines(d), d.gl_lines) for d in documents
    ]
    for whole in documents:
        shown: list[Any] = []
        gl: list[Any] = []
        offset = 0
        while True:
            page = await count_preview.preview_page(uow(), number, NOW, {whole.kind: offset}, 2)
            (this,) = [d for d in page.documents if d.document.kind == whole.kind]
            assert (this.line_count, this.document.total_value) == (
                len(whole.lines), whole.total_value,
            )  # fmt: skip
            assert (this.document.number, this.document.count) == (whole.number, whole.count)
            assert {(g.account, g.entity): g.amount for g in this.gl_totals} == {
                k: v for k, v in gl_totals(whole.gl_lines).items() if v
            }
            shown.extend(_lines(replace_lines(this.document, this.lines)))
            gl.extend(this.gl_lines)
            offset += 2
            if offset >= this.line_count:
                break
        assert shown == _lines(whole)
        assert gl == list(whole.gl_lines)
    return [(d.kind, len(d.lines), str(d.total_value)) for d in documents]


async def _review_totals(uow: Any, number: str) -> Any:
    """The review page's totals as the API's preview summarises its documents, or the
    code of their refusal, which must be the whole draft's own (message and problems)."""
    refused: StockcountError | None = None
    try:
        totals = await count_preview.preview_totals(uow(), number)
    except StockcountError as exc:
        refused = exc
    if refused is None:
        return [(x.kind, x.lines, str(x.total_value)) for x in totals]
    with pytest.raises(StockcountError) as drafted:
        await _whole_draft(uow, number)
    theirs = drafted.value
    assert (refused.code, refused.message, refused.details) == (
        theirs.code, theirs.message, theirs.details,
    )  # fmt: skip
    return refused.code


async def _preview_page_shows(client: Client, number: str, status: int, body: Any) -> None:
    """The Preview page (served by the app's process) answers as the API's preview does:
    each document's line count and value, or the refusal's status and message."""
    page = await client.get(f"/counts/{number}/preview")
    assert page.status_code == status, page.text[:500]
    if status != 200:
        # the refusal's message and its first problem, as the API gave them
        said, problems = body["detail"], body["errors"]
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            said += f": {problems[0]['location']}: {problems[0]['message']}{more}"
        alert = f'<p class="error" role="alert">{html.escape(said)}</p>'
        assert alert in page.text and not _documents_shown(page.text), (body, page.text[:2000])
        return
    expected = [
        (f"{TITLES[d['kind']]} {d['number']}", str(count), d["total_value"],
         f"Lines {min(count, 1)}-{min(count, review_pages.DRAFT_LINES)} of {count}.")
        for d in body["documents"]
        for count in [len(d["lines"])]
    ]  # fmt: skip
    assert _documents_shown(page.text) == expected, page.text[:3000]


TITLES = {"quantity_adjustment": "Quantity Adjustment", "stock_transfer": "Stock Transfer"}


def _documents_shown(page: str) -> list[tuple[str, str, str, str]]:
    """Each document of a Preview page: its title, the Lines and Total value of its facts,
    and its pager's text (its first page of lines)."""
    shown = []
    sections = re.findall(
        r'<section class="document" aria-label="([^"]+)">(.*?)</section>', page, re.S
    )
    for title, section in sections:
        lines = re.search(r"<dt>Lines</dt><dd>([^<]*)</dd>", section)
        value = re.search(r"<dt>Total value</dt><dd>([^<]*)</dd>", section)
        pager = re.search(r'<nav class="pager"[^>]*>\s*<span class="muted">([^<]*)</span>', section)
        assert lines and value and pager, section
        shown.append((title, lines.group(1), value.group(1), pager.group(1)))
    return shown


def _summary(body: Any) -> list[Any]:
    return [(d["kind"], len(d["lines"]), d["total_value"]) for d in body["documents"]]


async def test_the_drafts_follow_every_fact_they_are_built_from(
    database_url: str, client: Client
) -> None:
    """One process, one memo of drafts: each change to what the draft is built from (the
    review, the tolerances, the GL setup, bins frozen by another count, a new bin count)
    shows at once, and going back shows the first figures again; in the API's preview and
    in the review page's totals, made apart (`_preview`)."""
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    await generous_tolerances(client, sup)
    async with open_runtime(database_url) as runtime:
        status, body = await _preview(client, sup, number, runtime.uow)
        assert status == 200, body
        before = _summary(body)
        assert before == [("quantity_adjustment", 5, "13.00"), ("stock_transfer", 2, "250.00")]

        # the review: clear the proposal of S3 (a transfer of 120.00), then select it again
        (s3,) = [x["id"] for x in await lines(client, sup, number) if x["serial"] == "S3"]
        for action, expected in (
            ("clear", [("quantity_adjustment", 5, "13.00"), ("stock_transfer", 1, "130.00")]),
            ("select", before),
        ):
            done = await client.put(f"/api/counts/{number}/lines/{s3}/{action}", headers=sup)
            assert done.status_code == 200, done.text
            assert _summary((await _preview(client, sup, number, runtime.uow))[1]) == expected

        # the tolerances: none set, every selected line needs an approval first
        await client.put("/api/locations/MAIN/tolerances", json={"quantity": "0"}, headers=sup)
        status, body = await _preview(client, sup, number, runtime.uow)
        assert (status, body.get("code")) == (409, "approval-required"), body
        await generous_tolerances(client, sup)
        assert _summary((await _preview(client, sup, number, runtime.uow))[1]) == before

        # the GL setup: the inventory group loses its adjustment account (a one-sided entry)
        saved = await _set_adjustment_accounts(database_url, None)
        status, body = await _preview(client, sup, number, runtime.uow)
        assert (status, body.get("code")) == (422, "one-sided-gl"), body
        await _set_adjustment_accounts(database_url, saved)
        assert _summary((await _preview(client, sup, number, runtime.uow))[1]) == before

        # another count starts over B-01, which S5's transfer leaves: the bin is frozen
        other = await create_count(client, sup, prefix="B-")
        await start(client, sup, other)
        status, body = await _preview(client, sup, number, runtime.uow)
        assert (status, body.get("code")) == (409, "bins-frozen"), body
        cancelled = await client.post(f"/api/counts/{other}/cancel", headers=sup)
        assert cancelled.status_code == 200, cancelled.text
        assert _summary((await _preview(client, sup, number, runtime.uow))[1]) == before

        # a new bin count of A-01 (the count's next version, nothing else changes): BOLT 9
        await bin_count(
            client, hs["counter"], number, "A-01",
            [("SER", "S1"), ("SER", "S3"), ("SER", "S9"), ("SER", "S4")], [("BOLT", "", "9")],
            at=30,
        )  # fmt: skip
        assert _summary((await _preview(client, sup, number, runtime.uow))[1]) == [
            ("quantity_adjustment", 5, "15.50"),
            ("stock_transfer", 2, "250.00"),
        ]


async def _set_adjustment_accounts(
    database_url: str, accounts: dict[int, int | None] | None
) -> dict[int, int | None]:
    """Set every inventory group's adjustment account (None: none); the previous ones."""
    saved = {
        int(i): a for i, a in await rows(
            database_url, "SELECT id, adjustment_account_id FROM inventory_group"
        )
    }  # fmt: skip
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for group_id in saved:
                value = None if accounts is None else accounts[group_id]
                await conn.execute(
                    text("UPDATE inventory_group SET adjustment_account_id = :a WHERE id = :i"),
                    {"a": value, "i": group_id},
                )
    finally:
        await engine.dispose()
    return saved


async def _rows_as_made_whole(uow: Any, number: str) -> None:
    """The review's rows (made again only where a decision changed them) are the profile
    made whole from the reconciliation and the clearings now, on every filter."""
    whole = await count_review.reviewed_rows(uow(), number)
    made = profile_lines(whole.reconciliation.lines, await _cleared(uow, number))
    assert [r.row for r in whole.rows] == made
    for kind in ("missing", "serial_transfer_proposal"):
        some = await count_review.reviewed_rows(uow(), number, kind=kind)
        assert [r.row for r in some.rows] == [
            r for r in made if any(x.kind.value == kind for x in _lines_of(whole, r))
        ]


async def _cleared(uow: Any, number: str) -> frozenset[str]:
    found = await count_review.reviewed_reconciliation(uow(), number)
    return frozenset(x.line.id for x in found.lines if not x.selected)


def _lines_of(profile: Any, row: Any) -> list[Any]:
    by_id = profile.reconciliation.by_id()
    return [by_id[i] for i in row.line_ids]


async def test_the_review_totals_after_a_string_of_decisions_are_what_finalize_posts(
    database_url: str, client: Client
) -> None:
    """Clear, approve with a reason, select again, approve, clear: after each decision the
    review page's totals (or their refusal) are the preview's, and the last are the
    documents finalize posts."""
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await count_the_scenario(client, sup, hs["counter"])
    tight = {"quantity": "1", "value": "20"}
    assert (await client.put("/api/locations/MAIN/tolerances", json=tight, headers=sup)).is_success
    found = await lines(client, sup, number)
    need = [x for x in found if x["needs_approval"]]
    within = [x for x in found if x["adjustable"] and not x["needs_approval"]]
    assert len(need) >= 3 and within, found
    url = f"/api/counts/{number}/lines"
    approve = {"reason_code": "MISCOUNT"}
    first, second, *rest = need
    decisions = [
        ("put", f"{url}/{first['id']}/clear", None),
        ("post", f"{url}/{second['id']}/approve", approve),
        *[("post", f"{url}/{x['id']}/approve", approve) for x in rest],
        ("put", f"{url}/{first['id']}/select", None),
        ("post", f"{url}/{first['id']}/approve", approve),
        ("put", f"{url}/{within[0]['id']}/clear", None),
        ("put", f"{url}/{second['id']}/clear", None),
    ]
    await _signed_in(client)  # the Preview page too (the API: Bearer, no CSRF)
    async with open_runtime(database_url) as runtime:
        seen = [(await _preview(client, sup, number, runtime.uow))[1].get("code")]
        assert seen == ["approval-required"]
        for method, path, body in decisions:
            done = await client.request(method.upper(), path, json=body, headers=sup)
            assert done.status_code == 200, (path, done.text)
            status, answer = await _preview(client, sup, number, runtime.uow)
            seen.append(_summary(answer) if status == 200 else answer["code"])
            await _rows_as_made_whole(runtime.uow, number)
            await _preview_page_shows(client, number, status, answer)
        assert seen[len(rest) + 3] == seen[-4] == "approval-required"  # first selected again
        assert len({str(x) for x in seen}) >= 4, seen  # the decisions changed the totals
        last = await _review_totals(runtime.uow, number)
        posted = await count_review.finalize(
            runtime.uow(), await _supervisor(database_url), number, True, datetime.now(UTC)
        )
    assert (
        last == seen[-1] == [(d.kind, len(d.lines), str(d.total_value)) for d in posted.documents]
    )
    assert all(d.lines for d in posted.documents)
