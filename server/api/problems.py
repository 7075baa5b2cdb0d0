"""The pages the `type` of a problem points at: GET /problems/{code}, one short HTML page
per kind of problem, public (a client reading an error need not be signed in)."""

from __future__ import annotations

import html

from litestar import Controller, MediaType, Response, get
from litestar.params import FromPath

from server.domain.errors import NotFound

# code -> (title, what it means and what to do)
PROBLEMS: dict[str, tuple[str, str]] = {
    "bad-request": (
        "Bad request",
        "The request does not parse (not JSON, nested too deeply, truncated) or a field has "
        "the wrong type, holds NUL, or is a number too large. Nothing was changed: fix the "
        "field the detail names and send again.",
    ),
    "unauthenticated": (
        "Not authenticated",
        "No bearer token, an unknown or expired one, or a wrong username or password. Sign "
        "in again (POST /api/auth/token) or re-enroll the device.",
    ),
    "forbidden": ("Forbidden", "The caller's role may not do this. Ask a supervisor or admin."),
    "not-found": ("Not found", "No such resource, or no such route for this method."),
    "method-not-allowed": ("Method not allowed", "The route exists but not for this method."),
    "too-large": (
        "Request body too large",
        "The body is larger than the server accepts (STOCKCOUNT_MAX_BODY_BYTES; sync "
        "requests have their own bound): send smaller batches.",
    ),
    "unsupported-media-type": (
        "Unsupported media type",
        "Send Content-Type: application/json (MessagePack only to the sync routes, text/csv "
        "only to the imports).",
    ),
    "encoding": ("Unsupported content encoding", "Send the body as is, or gzip (one member)."),
    "validation": (
        "Invalid input",
        "A value is out of its range or breaks a rule (limit, cursor, format, a quantity). "
        "Nothing was changed: correct it and send again.",
    ),
    "conflict": ("Conflict", "The request conflicts with the current state: reload and retry."),
    "concurrent-change": (
        "Concurrent change",
        "Another request stored a conflicting record first; this one changed nothing: "
        "reload and try again.",
    ),
    "busy": ("Service busy", "The database is busy: retry after the Retry-After seconds."),
    "internal": (
        "Internal server error",
        "The server failed; it logged the failure and changed nothing. Report it.",
    ),
    "protocol_version_unsupported": (
        "Sync protocol version unsupported",
        "The handheld app speaks a sync protocol this server does not: update the app.",
    ),
    "count-status": ("Count status", "The count is not in a status that allows this."),
    "bins-frozen": (
        "Bins frozen",
        "Another count in progress freezes these bins: finish or cancel it first.",
    ),
    "already-reversed": ("Already reversed", "This journal transaction was reversed before."),
    "update-refused": ("Update refused", "The master data change is refused as it stands."),
    "unresolved-conflicts": (
        "Unresolved conflicts",
        "Bin counts of this count conflict: resolve them (pick or recount) first.",
    ),
    "one-sided-gl": ("One-sided GL", "The posting would leave the general ledger unbalanced."),
    "finalize-needs-confirmation": (
        "Finalize needs confirmation",
        "Finalizing now posts the documents: send confirm=true to go ahead.",
    ),
    "count-incomplete": ("Count incomplete", "Some bins of the count are not counted yet."),
    "bin-required": ("Bin required", "This item needs a bin."),
    "bin-count-replaced": ("Bin count replaced", "A later bin count replaced this one."),
    "approval-required": (
        "Approval required",
        "Lines above the location's tolerances need a supervisor's approval first.",
    ),
    "error": ("Error", "A refusal without a more specific kind: the detail says why."),
}


def page(code: str) -> str:
    title, text = PROBLEMS[code]
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p><code>{html.escape(code)}</code></p>"
        f"<p>{html.escape(text)}</p><p>Every error answer is RFC 9457 problem details "
        "(application/problem+json): <code>detail</code> says what was wrong with this "
        "request, <code>errors</code> lists the fields.</p></html>"
    )


class ProblemController(Controller):
    path = "/problems"
    tags = ("problems",)

    @get("/{code:str}", opt={"exclude_from_auth": True}, security=[], media_type=MediaType.HTML)
    async def problem_type(self, code: FromPath[str]) -> Response[str]:
        """A page that explains one kind of problem (the `type` of problem details)."""
        if code not in PROBLEMS:
            raise NotFound(f"no problem type {code!r}")
        return Response(page(code), media_type=MediaType.HTML)
