"""Refuse request bodies in a media type the API does not speak (415), before parsing.

Litestar would parse a JSON body whatever Content-Type says; a client that sends
`text/plain` or a form has a bug that should surface, not be guessed around.
"""

from __future__ import annotations

from litestar.exceptions import HTTPException

from server.api.state import AnyRequest

ACCEPTED_BODY_TYPES = frozenset(
    {
        "application/json",
        "application/msgpack",
        "application/x-msgpack",
        "application/vnd.msgpack",
        "text/csv",
        "application/csv",
    }
)
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _has_body(request: AnyRequest) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


async def require_known_body_type(request: AnyRequest) -> None:
    if request.method not in _WITH_BODY or not _has_body(request):
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ACCEPTED_BODY_TYPES:
        return
    shown = f"the body is {media_type}" if media_type else "the body has no Content-Type"
    raise HTTPException(
        status_code=415,
        detail=f"{shown}: send Content-Type: application/json "
        "(or application/msgpack; text/csv for imports)",
    )
