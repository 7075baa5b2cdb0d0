"""The sync protocol over HTTP: push and pull for devices, status and rejected events for
supervisors.

Bodies are read here, not by Litestar: JSON by default, MessagePack when Content-Type says
application/x-msgpack (answers follow Accept the same way); a gzip request body
(Content-Encoding: gzip) is inflated with a bound, and answers are gzipped when the client
accepts it. The protocol version is read first, from a minimal struct, so a device on an
unsupported version gets a 426 problem that says to upgrade instead of a decoding error.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIResponse, Operation, RequestBody
from litestar.params import FromQuery

from schemas import SUPPORTED_PROTOCOL_VERSIONS
from schemas.common import Problem
from schemas.sync import (
    MAX_PUSH_BYTES,
    MAX_PUSH_EVENTS,
    MEDIA_TYPE_JSON,
    MEDIA_TYPE_MSGPACK,
    PROBLEM_PROTOCOL_UNSUPPORTED,
    DeviceStatusList,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    RejectedPage,
    event_code_problem,
)
from server.api.content import check_body
from server.api.deps import CurrentCaller, CurrentSettings, Now, Uow
from server.api.errors import problem_response
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor
from server.api.security import device_only, roles
from server.api.state import AnyRequest
from server.domain.masterdata import Role
from server.sync import usecases as sync
from server.sync.http import wire

T = TypeVar("T")
MSGPACK_TYPES = frozenset({MEDIA_TYPE_MSGPACK, "application/msgpack", "application/vnd.msgpack"})
GZIP_MIN_BYTES = 256
PROTOCOL_HEADER = "x-stockcount-protocol"
TOO_DEEP = "the request body is nested too deeply: nothing was stored"


class _Version(msgspec.Struct):
    protocol_version: int = 0


class BadBody(Exception):
    def __init__(self, status: int, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code


def _media(value: str) -> str:
    return value.split(";")[0].strip().lower()


def wants_msgpack(request: AnyRequest) -> bool:
    accept = request.headers.get("accept", "")
    return any(_media(part) in MSGPACK_TYPES for part in accept.split(","))


async def read_body(request: AnyRequest, limit: int) -> bytes:
    """The request body, inflated when gzipped; more than `limit` bytes is a 413."""
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        body = raw
    elif encoding == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise BadBody(400, f"the gzip body does not inflate: {exc}", "bad-request") from None
        if not inflater.eof and len(body) <= limit:
            raise BadBody(400, "the gzip body is cut off", "bad-request")
        if inflater.unused_data:
            raise BadBody(400, "the gzip body holds more than one member: send one", "bad-request")
    else:
        raise BadBody(415, f"Content-Encoding {encoding} is not supported: use gzip", "encoding")
    if len(body) > limit:
        raise BadBody(
            413,
            f"a sync request holds at most {limit} bytes (uncompressed): send smaller batches",
            "too-large",
        )
    return body


def decode(request: AnyRequest, body: bytes, kind: type[T]) -> T:
    msgpack = _media(request.headers.get("content-type", "")) in MSGPACK_TYPES
    try:
        header = request.headers.get(PROTOCOL_HEADER)
        version = (
            int(header)
            if header and header.strip().isascii() and header.strip().isdigit()
            else (
                msgspec.msgpack.decode(body, type=_Version)
                if msgpack
                else msgspec.json.decode(body, type=_Version)
            ).protocol_version
        )
    except msgspec.DecodeError as exc:
        what = "MessagePack" if msgpack else "JSON"
        raise BadBody(400, f"the request body is not valid {what}: {exc}", "bad-request") from None
    except RecursionError:
        raise BadBody(400, TOO_DEEP, "bad-request") from None
    except msgspec.ValidationError as exc:
        raise BadBody(400, f"the request is not valid: {exc}", "bad-request") from None
    if version not in SUPPORTED_PROTOCOL_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_PROTOCOL_VERSIONS))
        raise BadBody(
            426,
            f"this server speaks sync protocol version {supported}, the device speaks "
            f"{version}: update the handheld app to a version for protocol {supported}; "
            "nothing was stored",
            PROBLEM_PROTOCOL_UNSUPPORTED,
        )
    try:
        if msgpack:
            data = msgspec.msgpack.decode(body, type=kind)
        else:
            data = msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise BadBody(422, f"the request is not valid: {exc}", "validation") from None
    except msgspec.DecodeError as exc:
        raise BadBody(400, f"the request body does not decode: {exc}", "bad-request") from None
    except RecursionError:
        raise BadBody(400, TOO_DEEP, "bad-request") from None
    try:
        # Quantities are decimal strings in every protocol version: a number is refused, as
        # are decimals past exact arithmetic and NUL in text (server/api/content.py).
        check_body(data, body, kind, msgpack=msgpack)
    except ValidationException as exc:
        where = exc.extra[0]["key"] if isinstance(exc.extra, list) and exc.extra else "body"
        raise BadBody(
            422, f"the request is not valid: {exc.detail} - at `$.{where}`", "validation"
        ) from None
    return data


def encode(request: AnyRequest, value: Any) -> Response[bytes]:
    """JSON, or MessagePack when asked; gzipped when accepted and worth it."""
    if wants_msgpack(request):
        content, media_type = msgspec.msgpack.encode(value), MEDIA_TYPE_MSGPACK
    else:
        content, media_type = msgspec.json.encode(value), MEDIA_TYPE_JSON
    headers = {"Vary": "Accept, Accept-Encoding"}
    accepted = request.headers.get("accept-encoding", "").lower()
    if len(content) >= GZIP_MIN_BYTES and "gzip" in accepted:
        content = gzip.compress(content, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(content=content, media_type=media_type, headers=headers)


def refused(request: AnyRequest, exc: BadBody) -> Response[bytes]:
    return problem_response(request, exc.status, exc.detail, exc.code)


# --- OpenAPI: the bodies the handlers read and write themselves -------------------------
# The push and pull handlers read raw bytes (gzip, MessagePack, the version first), so
# Litestar cannot see their bodies in their signatures. Litestar documents the `data` of
# any dependency a handler has: these two are that, and are never requested, so never run.


def _push_body(data: PushRequest) -> PushRequest:  # pragma: no cover - OpenAPI only
    return data


def _pull_body(data: PullRequest) -> PullRequest:  # pragma: no cover - OpenAPI only
    return data


_ENCODINGS = (
    "JSON by default; MessagePack (same fields) with Content-Type application/x-msgpack "
    "(the answer follows Accept the same way). The request body may be gzipped "
    "(Content-Encoding: gzip); the answer is gzipped when Accept-Encoding allows it. "
    "The header X-Stockcount-Protocol (or the body's protocol_version) is read first: a "
    "version the server does not speak is a 426 problem. docs/PROTOCOL.md has the rest."
)


@dataclass
class SyncOperation(Operation):
    """The push and pull operations: MessagePack beside JSON, in both directions."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            body = self.request_body.content
            body[MEDIA_TYPE_MSGPACK] = body[MEDIA_TYPE_JSON]
            self.request_body.description = _ENCODINGS
        for response in (self.responses or {}).values():
            content = response.content if isinstance(response, OpenAPIResponse) else None
            if content and MEDIA_TYPE_JSON in content:
                content[MEDIA_TYPE_MSGPACK] = content[MEDIA_TYPE_JSON]


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,
    )


_SYNC_PROBLEMS = {
    400: _problem("the body does not decode (JSON, MessagePack or gzip)"),
    401: _problem("no device credential, or a revoked one"),
    403: _problem("a user's token, not a device's"),
    413: _problem("more than MAX_PUSH_BYTES bytes, uncompressed"),
    415: _problem("a Content-Encoding other than gzip"),
    422: _problem("the body does not match the schema (code validation)"),
    426: _problem(f"a protocol version the server does not speak ({PROBLEM_PROTOCOL_UNSUPPORTED})"),
}


# Provided by the app from its runtime (`server.bootstrap` chose it).
Ingest: TypeAlias = NamedDependency[Any]  # PushIngest (a protocol: see Uow in server/api/deps.py)


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post(
        "/push",
        guards=[device_only],
        status_code=200,
        dependencies={"push_body": Provide(_push_body, sync_to_thread=False)},
        operation_class=SyncOperation,
        responses={
            200: ResponseSpec(
                data_container=PushResponse,
                description="one acknowledgement per event; " + _ENCODINGS,
                generate_examples=False,
            ),
            **_SYNC_PROBLEMS,
        },
    )
    async def push(
        self,
        request: AnyRequest,
        ingest: Ingest,
        caller: CurrentCaller,
        now: Now,
    ) -> Response[bytes]:
        """Store a batch of events from the device's outbox, each exactly once; answer per
        event applied, duplicate or rejected, the high-water mark, and the seq expected
        after a gap. At most MAX_PUSH_EVENTS events and MAX_PUSH_BYTES bytes."""
        try:
            body = await read_body(request, MAX_PUSH_BYTES)
            data = decode(request, body, PushRequest)
            if len(data.events) > MAX_PUSH_EVENTS:
                raise BadBody(
                    422,
                    f"a batch holds at most {MAX_PUSH_EVENTS} events, not {len(data.events)}: "
                    "send smaller batches",
                    "validation",
                )
            problem = event_code_problem(data.events)
            if problem is not None:
                raise BadBody(422, f"the request is not valid: {problem}", "validation")
        except BadBody as exc:
            return refused(request, exc)
        result = await ingest.push(caller, wire.push_batch(data), now)
        return encode(request, wire.push_response(result))

    @post(
        "/pull",
        guards=[device_only],
        status_code=200,
        dependencies={"pull_body": Provide(_pull_body, sync_to_thread=False)},
        operation_class=SyncOperation,
        responses={
            200: ResponseSpec(
                data_container=PullResponse,
                description="one page of reference data and its cursor; " + _ENCODINGS,
                generate_examples=False,
            ),
            **_SYNC_PROBLEMS,
        },
    )
    async def pull(
        self, request: AnyRequest, uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[bytes]:
        """One page of the reference data that changed after the cursor, with its cursor."""
        try:
            data = decode(request, await read_body(request, MAX_PUSH_BYTES), PullRequest)
        except BadBody as exc:
            return refused(request, exc)
        return encode(
            request, wire.pull_response(await sync.pull(uow, caller, wire.pull_query(data), now))
        )

    @get("/rejected", guards=[roles(Role.SUPERVISOR)])
    async def rejected(
        self,
        uow: Uow,
        device: FromQuery[int | None] = None,
        count: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> RejectedPage:
        """Events the server stored but could not apply, oldest first: kept, never dropped."""
        page = await sync.rejected_events(
            uow, decode_cursor(cursor), check_limit(limit), device, count
        )
        return wire.rejected_page(page)


class DeviceStatusController(Controller):
    path = "/api/devices"
    tags = ["devices", "sync"]

    @get("/status", guards=[roles(Role.SUPERVISOR)])
    async def status(
        self,
        uow: Uow,
        settings: CurrentSettings,
        now: Now,
        location: FromQuery[str | None] = None,
    ) -> DeviceStatusList:
        """Every active device: last seen, last seq, queue depth, app version, clock skew,
        and stale when it has not synced within STOCKCOUNT_DEVICE_STALE_MINUTES."""
        records = await sync.device_status(uow, location, now, settings.device_stale_minutes)
        return wire.device_status_list(records)
