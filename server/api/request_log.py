"""One log line per request: its id (answered as X-Request-ID), the user or device, the
route, the status and the duration. Never a header, a query or a body: no password, token,
credential or PIN can reach the log through it.

`configure_logging` sets the root handler's format once: plain text, or one JSON object a
line (STOCKCOUNT_LOG_FORMAT=json) by python-json-logger, whose fields are the record's
`extra` (request_id, method, route, status, duration_ms, caller_kind, caller, client).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pythonjsonlogger.json import JsonFormatter

from server.domain.auth import Caller

log = logging.getLogger("stockcount.request")
REQUEST_ID_HEADER = "x-request-id"
# An id a proxy in front gave the request is kept, if it looks like one (no log injection).
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_LONGEST_CLIENT = 64  # an IPv6 address with its zone fits


def log_formatter(fmt: str) -> logging.Formatter:
    """Plain text, or JSON: one object a line with the record's `extra` as fields."""
    if fmt == "json":
        return JsonFormatter(
            TEXT_FORMAT,
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, fmt: str) -> None:
    """A handler on the root logger with the level and format asked for, as
    logging.basicConfig does: nothing if the root logger has one already (a test run, an
    embedding program configured logging first)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            given = value.decode("latin-1")
            if _GOOD_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


_KEY = "stockcount_request_log"  # this request's id, start and status, in its scope


def _entry(scope: Scope) -> dict[str, Any]:
    found: dict[str, Any] = scope.setdefault(_KEY, {})  # type: ignore[misc]
    if "request_id" not in found:
        found["request_id"] = _request_id(scope)
    return found


class RequestLog:
    """ASGI middleware: the request's id and start time, before anything else of the
    route's (the authentication middleware included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            _entry(scope)["started"] = time.perf_counter()
        await self.app(scope, receive, send)


async def log_response(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook: it sees every answer, those of the exception handlers
    (401 from the authentication middleware, 429) and of unknown routes included. It adds
    X-Request-ID to the answer and logs the line when the answer's last part goes out."""
    if scope["type"] != ScopeType.HTTP:
        return
    entry = _entry(scope)
    if message["type"] == "http.response.start":
        entry["status"] = int(message["status"])
        # a new list: the message's own may be a tuple, or shared with a cached response
        message["headers"] = [
            *message.get("headers", ()),
            (REQUEST_ID_HEADER.encode(), str(entry["request_id"]).encode()),
        ]
        return
    if message["type"] != "http.response.body" or message.get("more_body", False):
        return
    started = entry.get("started")
    caller = scope.get("user")
    fields: dict[str, Any] = {
        "request_id": entry["request_id"],
        "method": scope.get("method", ""),
        "route": scope.get("path_template") or scope.get("path", ""),
        "status": entry.get("status", 0),
        "duration_ms": None
        if started is None
        else round((time.perf_counter() - started) * 1000, 1),
        "caller_kind": caller.kind.value if isinstance(caller, Caller) else None,
        "caller": caller.name if isinstance(caller, Caller) else None,
        # the client's address: behind a trusted proxy, the one it forwarded (uvicorn's
        # middleware around the app, server.api.forwarded), else the peer's; cut short, as
        # a forwarded one is whatever the proxies' header held
        "client": client[0][:_LONGEST_CLIENT] if (client := scope.get("client")) else None,
    }
    log.info(
        "%s %s %s %sms %s %s %s",
        fields["method"],
        fields["route"],
        fields["status"],
        fields["duration_ms"],
        fields["caller"] or "-",
        fields["client"] or "-",
        fields["request_id"],
        extra=fields,
    )
