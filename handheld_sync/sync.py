"""The device's sync engine: push the outbox, pull reference data, over an injected client.

    client = httpx.Client(base_url=url, headers=auth_headers(store))
    engine = SyncEngine(store, client)
    report = engine.sync()          # push everything, then pull every page

The engine takes its HTTP client as an argument, so tests drive the real app in process
(Litestar's TestClient is an httpx.Client) or a real server over loopback.

Push. Batches from `store.pending_batch` are bounded by count and bytes, encoded as JSON
(or MessagePack), gzipped, and acknowledged in the store per event. Every push also says
the highest seq the server ever acknowledged (`acked_seq`, kept in the store): the
server's `high_water` answer below it means the server went back (restored from a
backup), and the engine makes everything above it pending again
(`Store.resend_lost_from`: rejected entries too, the server lost those as well) and sends
it. An `expected_seq`
answer (a gap) does the same from that seq. Nothing is deleted on the device.

Pull. Each page and its cursor are applied in ONE store transaction (`apply_pull`); a
reset page (a new server epoch) replaces all reference data.

Retries. Transport errors, 5xx, 408 and 429 are retried with exponential backoff and full
jitter, a bounded number of times, then `TransportError`. A 429 or 503 with Retry-After
(seconds, or an HTTP date read against the injected clock) waits what the server asks
instead, up to `max_retry_after` seconds; a server that asks for longer is not retried in
this sync (`TransportError` says how long it asked for). 426 is
`ProtocolVersionUnsupported` with the server's upgrade message; other 4xx `ServerRefused`.
The device clock goes into `device_time` (recorded) and nothing else: order is seq.
"""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
import msgspec

import schemas
from handheld_sync.errors import (
    HandheldError,
    ProtocolVersionUnsupported,
    ServerRefused,
    TransportError,
)
from handheld_sync.store import Store
from schemas.auth import Enrollment, EnrollRequest
from schemas.sync import (
    MAX_PUSH_BYTES,
    MAX_PUSH_EVENTS,
    MEDIA_TYPE_JSON,
    MEDIA_TYPE_MSGPACK,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (events sent so far, events to send)

DEVICE_ID = "device_id"
CREDENTIAL = "credential"
SERVER_URL = "server_url"
ACKED_SEQ = "sync_acked_seq"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_STATUS = frozenset({429, 503})
MAX_ROUNDS = 10_000  # push rounds in one sync: a bound, never reached by a sane server


@dataclass
class SyncReport:
    sent: int = 0
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0
    requeued: int = 0
    pages: int = 0
    reset: bool = False
    server_epoch: str = ""


def enroll(client: httpx.Client, store: Store, code: str, name: str, app_version: str) -> int:
    """Exchange a one-time code for this device's credential, kept in the store."""
    body = msgspec.json.encode(
        EnrollRequest(
            code=code, name=name, app_version=app_version, protocol_version=schemas.PROTOCOL_VERSION
        )
    )
    try:
        response = client.post(
            "/api/devices/enroll", content=body, headers={"Content-Type": MEDIA_TYPE_JSON}
        )
    except httpx.TransportError as exc:
        raise TransportError(f"cannot reach the server: {exc}") from None
    _raise_for(response)
    enrolled = msgspec.json.decode(response.content, type=Enrollment)
    with store.transaction():
        store.set_setting(DEVICE_ID, str(enrolled.device_id))
        store.set_setting(CREDENTIAL, enrolled.credential)
        store.set_setting(SERVER_URL, str(client.base_url).rstrip("/"))
    return enrolled.device_id


def auth_headers(store: Store) -> dict[str, str]:
    credential = store.setting(CREDENTIAL)
    if not credential:
        raise HandheldError("this device is not enrolled: run 'stockcount-handheld enroll' first")
    return {"Authorization": f"Bearer {credential}"}


def _problem(response: httpx.Response) -> tuple[str, str]:
    try:
        problem = msgspec.json.decode(response.content, type=dict[str, object])
    except msgspec.DecodeError:
        return response.text[:200] or response.reason_phrase, ""
    return str(problem.get("detail", "")), str(problem.get("code", ""))


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """The seconds a 429 or 503 asks the client to wait (RFC 9110 Retry-After: a number of
    seconds or an HTTP date); None when it does not say, or says it unreadably."""
    if response.status_code not in RETRY_AFTER_STATUS:
        return None
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as HTTP dates are
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    detail, code = _problem(response)
    if response.status_code == 426:
        raise ProtocolVersionUnsupported(detail or "the server does not speak this app's protocol")
    raise ServerRefused(
        f"the server refused ({response.status_code}): {detail}",
        status=response.status_code,
        problem_code=code,
    )


class SyncEngine:
    def __init__(
        self,
        store: Store,
        client: httpx.Client,
        *,
        device_id: int | None = None,
        msgpack: bool = False,
        compress: bool = True,
        max_events: int = MAX_PUSH_EVENTS,
        max_bytes: int = MAX_PUSH_BYTES,
        retries: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
        max_retry_after: float = 30.0,
        app_version: str = "",
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.client = client
        stored = store.setting(DEVICE_ID)
        if device_id is None and stored is None:
            raise HandheldError("this device is not enrolled: run 'stockcount-handheld enroll'")
        self.device_id = device_id if device_id is not None else int(stored or 0)
        self.msgpack = msgpack
        self.compress = compress
        self.max_events = min(max_events, MAX_PUSH_EVENTS)
        self.max_bytes = min(max_bytes, MAX_PUSH_BYTES // 2)  # room for the envelope
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.app_version = app_version
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock
        self.progress = progress

    # -- transport -----------------------------------------------------------------------

    def _post(self, path: str, payload: object, answer: type[T]) -> T:
        media = MEDIA_TYPE_MSGPACK if self.msgpack else MEDIA_TYPE_JSON
        body = msgspec.msgpack.encode(payload) if self.msgpack else msgspec.json.encode(payload)
        headers = {
            "Content-Type": media,
            "Accept": media,
            "X-Stockcount-Protocol": str(schemas.PROTOCOL_VERSION),
        }
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        attempt = 0
        while True:
            asked: float | None = None
            try:
                response = self.client.post(path, content=body, headers=headers)
            except httpx.TransportError as exc:
                failure = f"cannot reach the server ({type(exc).__name__}: {exc})"
            else:
                if response.status_code not in RETRY_STATUS:
                    _raise_for(response)
                    kind = response.headers.get("content-type", "").split(";")[0].strip()
                    try:
                        if kind == MEDIA_TYPE_MSGPACK:
                            return msgspec.msgpack.decode(response.content, type=answer)
                        return msgspec.json.decode(response.content, type=answer)
                    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                        failure = f"the server's answer does not decode ({exc})"
                else:
                    failure = f"the server answered {response.status_code}"
                    asked = retry_after(response, self._clock())
            attempt += 1
            if asked is not None and asked > self.max_retry_after:
                raise TransportError(
                    f"{failure} and asks to wait {asked:.0f} s before trying again: "
                    "sync again later"
                )
            if attempt > self.retries:
                raise TransportError(f"{failure}; gave up after {self.retries} retries")
            if asked is not None:
                self._sleep(asked)
                continue
            ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            self._sleep(self._jitter() * ceiling)

    # -- push ----------------------------------------------------------------------------

    def push(self, report: SyncReport | None = None) -> SyncReport:
        """Send every pending event; at least one request (status and restore check)."""
        report = report or SyncReport()
        total = self.store.outbox_summary()["pending"]
        acked = int(self.store.setting(ACKED_SEQ) or 0)
        stalled = 0
        for _ in range(MAX_ROUNDS):
            pending = self.store.outbox_summary()["pending"]
            batch = self.store.pending_batch(max_events=self.max_events, max_bytes=self.max_bytes)
            request = PushRequest(
                protocol_version=schemas.PROTOCOL_VERSION,
                device_id=self.device_id,
                install_id=self.store.install_id,
                device_time=datetime.now(UTC),
                events=[entry.event() for entry in batch],
                app_version=self.app_version,
                queue_depth=pending - len(batch),
                acked_seq=acked,
            )
            answer = self._post("/api/sync/push", request, PushResponse)
            report.server_epoch = answer.server_epoch
            report.sent += len(batch)
            if answer.high_water < acked:
                # Restored from a backup: everything above its high-water mark again.
                report.requeued += self.store.resend_lost_from(answer.high_water + 1)
                total += report.requeued
            self.store.acknowledge(answer.acks, epoch=answer.server_epoch)
            for ack in answer.acks:
                if ack.outcome == "applied":
                    report.applied += 1
                elif ack.outcome == "duplicate":
                    report.duplicate += 1
                else:
                    report.rejected += 1
            acked = answer.high_water
            self.store.set_setting(ACKED_SEQ, str(acked))
            before = report.requeued
            if answer.expected_seq is not None and batch and answer.expected_seq < batch[0].seq:
                report.requeued += self.store.resend_lost_from(answer.expected_seq)
            if self.progress is not None:
                done = total - self.store.outbox_summary()["pending"]
                self.progress(max(done, 0), max(total, done))
            if not self.store.outbox_summary()["pending"]:
                return report
            moved = bool(answer.acks) or report.requeued > before
            stalled = 0 if moved else stalled + 1
            if stalled >= 3:
                break
        raise TransportError("the server answers without taking the events: try again later")

    # -- pull ----------------------------------------------------------------------------

    def pull(self, report: SyncReport | None = None, limit: int | None = None) -> SyncReport:
        """Every page of what changed since the stored cursor, each in one transaction."""
        report = report or SyncReport()
        for _ in range(MAX_ROUNDS):
            request = PullRequest(
                protocol_version=schemas.PROTOCOL_VERSION,
                device_id=self.device_id,
                install_id=self.store.install_id,
                cursor=self.store.pull_cursor(),
                **({"limit": limit} if limit else {}),
            )
            page = self._post("/api/sync/pull", request, PullResponse)
            self.store.apply_pull(page)
            report.pages += 1
            report.reset = report.reset or page.reset
            if not page.has_more:
                return report
        raise TransportError("the server keeps sending pages: try again later")

    def sync(self) -> SyncReport:
        report = self.push()
        self.pull(report)
        return report
